/**
 * checkHealth() of the docker runtime: a heartbeat file's age or a check command, both run inside the
 * instance's container (exec). Building the command and reading its answer are pure; one exec runs it.
 */
import type { HealthCheck, HealthResult } from '../driver.ts';
import type { ContainerInspect, DockerEngine } from './engine.ts';

type Heartbeat = NonNullable<HealthCheck['heartbeat']>;

/** What an exec answered; exit code -1 when it could not run at all (output: why). */
interface ExecAnswer {
  exitCode: number;
  output: string;
}

export async function checkContainerHealth(engine: DockerEngine, id: string, info: ContainerInspect | undefined, check: HealthCheck): Promise<HealthResult> {
  if (!info?.State.Running) return { ok: false, detail: `instance ${id} is not running` };
  const exec = (argv: string[]): Promise<ExecAnswer> => engine.exec(info.Id, argv, { timeoutMs: check.timeoutMs }).catch((error: Error) => ({ exitCode: -1, output: error.message }));
  if (check.heartbeat) return heartbeatResult(check.heartbeat, await exec(heartbeatArgv(check.heartbeat.file)));
  if (!check.command) return { ok: false, detail: 'no heartbeat or command to check' };
  return commandResult(check.command, (await exec(['sh', '-c', check.command])).exitCode);
}

/** Prints the file's age in seconds, from the container's own clock; date -r is in busybox and GNU date alike. */
export function heartbeatArgv(path: string): string[] {
  const file = path.replace(/'/g, "'\\''");
  return ['sh', '-c', `[ -f '${file}' ] && echo $(( $(date +%s) - $(date -r '${file}' +%s) ))`];
}

export function heartbeatResult(heartbeat: Heartbeat, answer: ExecAnswer): HealthResult {
  if (answer.exitCode === -1) return { ok: false, detail: `checking the heartbeat failed: ${answer.output}` };
  if (answer.exitCode !== 0) return { ok: false, detail: `heartbeat ${heartbeat.file} does not exist yet` };
  const ageMs = Number(answer.output.trim()) * 1000;
  return ageMs <= heartbeat.maxAgeMs
    ? { ok: true, detail: `heartbeat ${Math.round(ageMs / 1000)} s old` }
    : { ok: false, detail: `heartbeat is ${Math.round(ageMs / 1000)} s old (limit ${Math.round(heartbeat.maxAgeMs / 1000)} s)` };
}

export function commandResult(command: string, exitCode: number): HealthResult {
  return exitCode === 0 ? { ok: true, detail: `\`${command}\` exited 0` } : { ok: false, detail: `\`${command}\` exited with code ${exitCode}` };
}
