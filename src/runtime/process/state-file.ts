/**
 * The process driver's record of one instance, in instances/<id>.json, rewritten atomically on every
 * change so a daemon that dies at any moment leaves a readable file. It holds the whole spec because
 * adopt() must be able to restart the instance on its own; the env and secrets in it are sealed with the
 * layout's SecretBox when there is one (berth's daemon always passes one), and the file is mode 0600.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../lib/atomic-file.ts';
import type { ExitInfo, InstanceSpec } from '../driver.ts';
import { stateFile, type Layout } from './layout.ts';

export interface InstanceState {
  version: 1;
  spec: InstanceSpec;
  state: 'running' | 'restarting' | 'crashloop';
  /** Group leader; its pid is also the process group id (instances run in their own session). */
  pid: number | null;
  /** /proc/<pid>/stat field 22, so a recycled pid is never taken for ours. */
  startTime: number | null;
  port: number | null;
  restarts: number;
  /** Recent crash times (epoch ms) inside the restart window. */
  crashes: number[];
  lastExit?: ExitInfo;
  /** When a restarting instance is due to start again (epoch ms). */
  restartAt?: number;
  startedAt: number;
}

interface SealedSpec extends InstanceSpec {
  sealed?: string;
}

export function writeState(layout: Layout, state: InstanceState): void {
  mkdirSync(layout.instances, { recursive: true });
  let stored: InstanceState = state;
  if (layout.box) {
    const { env, secrets, ...rest } = state.spec;
    const spec: SealedSpec = { ...rest, env: {}, secrets: [], sealed: layout.box.seal(JSON.stringify({ env, secrets })) };
    stored = { ...state, spec };
  }
  writeFileAtomic(stateFile(layout, state.spec.id), JSON.stringify(stored, null, 2) + '\n', 0o600);
}

export function readState(layout: Layout, id: string): InstanceState | null {
  try {
    return parseState(readFileSync(stateFile(layout, id), 'utf8'), layout);
  } catch {
    return null;
  }
}

export function removeState(layout: Layout, id: string): void {
  rmSync(stateFile(layout, id), { force: true });
}

/** Every readable state file; unreadable ones are reported through onBad and skipped. */
export function listStates(layout: Layout, onBad: (file: string, error: unknown) => void = () => {}): InstanceState[] {
  let names: string[];
  try {
    names = readdirSync(layout.instances);
  } catch {
    return [];
  }
  const states: InstanceState[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    try {
      const state = parseState(readFileSync(`${layout.instances}/${name}`, 'utf8'), layout);
      if (state) states.push(state);
      else onBad(name, new Error('not an instance state file'));
    } catch (error) {
      onBad(name, error);
    }
  }
  return states;
}

function parseState(text: string, layout: Layout): InstanceState | null {
  const value = JSON.parse(text) as InstanceState;
  if (!value || value.version !== 1 || !value.spec || typeof value.spec.id !== 'string') return null;
  const { sealed, ...spec } = value.spec as SealedSpec;
  if (sealed === undefined) return value;
  if (!layout.box) throw new Error('the state file is sealed and no key was given');
  const { env, secrets } = JSON.parse(layout.box.open(sealed)) as Pick<InstanceSpec, 'env' | 'secrets'>;
  return { ...value, spec: { ...spec, env, secrets } };
}
