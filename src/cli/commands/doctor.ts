/** `berth doctor`: which runtime berth chose and why, versions, the proxy, disk space. */
import type { Doctor } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { cliVersion } from '../version.ts';

export const spec: CommandSpec = {
  name: 'doctor',
  usage: 'berth doctor',
  summary: 'Say which runtime berth chose and why, and check what berth depends on.',
  details: ['Asks the server (GET /v1/doctor). --json prints its answer.'],
  flags: {},
  args: [],
};

export interface DoctorArgs {
  globals: Globals;
}

export function parse(argv: string[]): DoctorArgs {
  return { globals: parseCommandArgs(spec, argv).globals };
}

const gb = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GB`;

export async function run(args: DoctorArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const report = await client.get<Doctor>('/v1/doctor');
  if (ctx.globals.json) {
    ctx.io.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `berth ${report.version} (CLI ${cliVersion()}), Node ${report.node}`,
    `runtime   ${report.runtime.driver}: ${report.runtime.reason}`,
  ];
  if (report.runtime.engine) lines.push(`engine    Docker Engine ${report.runtime.engine.Version} (API ${report.runtime.engine.ApiVersion}${report.runtime.engineApiVersion ? `, berth speaks ${report.runtime.engineApiVersion}` : ''})`);
  lines.push('error' in report.proxy ? `proxy     not answering: ${report.proxy.error}` : `proxy     pid ${report.proxy.pid}, berth ${report.proxy.version}, on ${report.proxy.address.host}:${report.proxy.address.port}, ${report.proxy.connections} open connections`);
  const lowDisk = report.disk.freeBytes < 5 * 1024 ** 3;
  lines.push(`data      ${report.dataDir}: ${gb(report.disk.freeBytes)} free of ${gb(report.disk.totalBytes)}${lowDisk ? '  (low: builds and releases need room)' : ''}`);
  lines.push(`apps      ${report.apps}`);
  // Older servers send no warnings.
  for (const warning of report.warnings ?? []) lines.push(`warning   ${warning}`);
  ctx.io.stdout.write(lines.join('\n') + '\n');
  return 'error' in report.proxy ? 1 : 0;
}
