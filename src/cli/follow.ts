/**
 * Following a deployment to its end, shared by `deploy`, `rollback`, `env set/unset` and `up`: read its
 * event stream (reconnecting after `?after=<seq>` if the connection drops), show progress through a
 * ProgressView, then print the outcome from the final Deployment and return the exit code.
 */
import { isBerthError } from '../errors/catalogue.ts';
import { systemClock } from '../lib/clock.ts';
import type { EventType } from '../model/events.ts';
import { isTerminal } from '../model/states.ts';
import type { ApiEvent, Deployment, DeploymentState } from '../model/wire.ts';
import type { ApiClient } from './client.ts';
import type { Context } from './context.ts';
import { EXIT_INTERRUPTED, isAbort } from './errors.ts';
import { liveEnabled, type Output, type Style } from './io.ts';
import { applyEvent, deploymentOutcome, filesSummary, newProgress, plainLines, renderLive, uploadDone, uploadProgress } from './progress.ts';
import type { SseMessage } from './sse.ts';

export interface ProgressView {
  uploadProgress(bytesSent: number): void;
  uploadDone(files: number, bytes: number): void;
  event(event: ApiEvent): void;
  /** Draws the final state and stops redrawing; safe to call twice. */
  close(): void;
}

export interface ViewOptions {
  out: Output;
  /** Redraw a block in place (a terminal) or print one line per event (pipes, CI). */
  live: boolean;
  style: Style;
  /** Start with an `upload` step (deploys) or without (rollbacks, env changes). */
  upload: boolean;
  healthyAfter?: number;
  now?: () => number;
}

const REDRAW_MS = 100;

export function createProgressView(options: ViewOptions): ProgressView {
  return options.live ? liveView(options) : plainView(options);
}

function plainView(options: ViewOptions): ProgressView {
  const { out, healthyAfter } = options;
  return {
    uploadProgress: () => undefined,
    uploadDone: (files, bytes) => void out.write(`upload: ${filesSummary(files, bytes)}\n`),
    event: (event) => {
      for (const line of plainLines(event, { healthyAfter })) out.write(`${line}\n`);
    },
    close: () => undefined,
  };
}

function liveView(options: ViewOptions): ProgressView {
  const { out, style } = options;
  const now = options.now ?? Date.now;
  let model = newProgress({ upload: options.upload, now: now(), healthyAfter: options.healthyAfter });
  let drawn = 0;
  let closed = false;
  const draw = () => {
    // Some terminals (and pseudo-terminals without a size) report 0 columns.
    const columns = out.columns && out.columns >= 20 ? out.columns : 80;
    const lines = renderLive(model, now(), style, columns - 1);
    // Back to the first line of the previous block, clear to the end of the screen, draw anew.
    out.write(`${drawn ? `\x1b[${drawn}F\x1b[J` : ''}${lines.map((line) => `${line}\n`).join('')}`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, REDRAW_MS);
  // A view that is never closed must not keep the CLI alive.
  timer.unref();
  draw();
  return {
    uploadProgress: (bytes) => {
      model = uploadProgress(model, bytes);
    },
    uploadDone: (files, bytes) => {
      model = uploadDone(model, { files, bytes }, now());
      draw();
    },
    event: (event) => {
      model = applyEvent(model, event, now());
      if (event.type !== 'build.log') draw();
    },
    close: () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      draw();
    },
  };
}

/** The view for a command: on stdout normally, on stderr with --json (stdout then holds only JSON). */
export function progressViewFor(ctx: Context, options: { upload: boolean; healthyAfter?: number }): ProgressView {
  const out = ctx.globals.json ? ctx.io.stderr : ctx.io.stdout;
  return createProgressView({ out, live: liveEnabled(out, ctx.io.env), style: ctx.globals.json ? ctx.err : ctx.out, ...options });
}

/** Where the CLI stops following: traffic has moved (draining counts: the old release only finishes its work), or it failed. */
export const isSettled = (state: DeploymentState): boolean => state === 'draining' || isTerminal(state);

/**
 * An SSE message as the event the API sent (its `data`). The type and seq fall back to the message's
 * event name and id, the message to ''; like every answer, the data is taken to be the wire shape.
 */
export function parseEvent(message: SseMessage): ApiEvent | undefined {
  try {
    const event = JSON.parse(message.data) as Partial<Record<'type' | 'seq' | 'message', unknown>> | null;
    if (typeof event !== 'object' || event === null) return undefined;
    if (typeof event.type !== 'string') event.type = message.event;
    if (typeof event.seq !== 'number' && message.id !== undefined) event.seq = Number(message.id);
    if (typeof event.message !== 'string') event.message = '';
    return event as ApiEvent;
  } catch {
    return undefined;
  }
}

// deploy.switched ends the wait: the new release serves; the old one draining is no reason to block the user.
const TERMINAL_EVENTS: readonly EventType[] = ['deploy.switched', 'deploy.succeeded', 'deploy.failed', 'deploy.interrupted'];
const MAX_RETRIES = 5;

export interface FollowOptions {
  onEvent(event: ApiEvent): void;
  signal?: AbortSignal;
  retryDelayMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const isUnreachable = (error: unknown) => isBerthError(error) && error.code === 'DAEMON_UNREACHABLE';

/**
 * Streams the deployment's events to `onEvent` until traffic has moved or it failed, then returns the Deployment. A dropped
 * connection is resumed after the last seen event; after five tries without progress the last known
 * state is returned (the outcome then says it is still running).
 */
export async function followDeployment(client: ApiClient, deployment: Deployment, options: FollowOptions): Promise<Deployment> {
  if (isSettled(deployment.state)) return deployment;
  const { signal } = options;
  const sleep = options.sleep ?? systemClock.sleep;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const path = `/v1/deployments/${encodeURIComponent(deployment.id)}`;
  let latest = deployment;
  let after: number | undefined;
  let stalled = 0;
  for (;;) {
    let terminal: ApiEvent | undefined;
    try {
      for await (const message of client.events(`${path}/events`, { query: { after }, signal })) {
        const event = parseEvent(message);
        if (!event) continue;
        // On a resumed stream, never show an event twice.
        if (after !== undefined && event.seq <= after) continue;
        after = event.seq;
        stalled = 0;
        options.onEvent(event);
        if (TERMINAL_EVENTS.includes(event.type)) {
          terminal = event;
          break;
        }
      }
    } catch (error) {
      if (isAbort(error) || !isUnreachable(error) || stalled >= MAX_RETRIES) throw error;
    }
    if (terminal) return finalDeployment(client, latest, terminal, { signal, sleep });
    try {
      latest = await client.get<Deployment>(path, { signal });
      if (isSettled(latest.state)) return latest;
    } catch (error) {
      if (isAbort(error) || !isUnreachable(error) || stalled >= MAX_RETRIES) throw error;
    }
    if (++stalled > MAX_RETRIES) return latest;
    await sleep(retryDelayMs, signal);
  }
}

/** The server may record the final state a moment after announcing it; ask again briefly before inventing it. */
async function finalDeployment(
  client: ApiClient,
  known: Deployment,
  terminal: ApiEvent,
  options: { signal?: AbortSignal; sleep: (ms: number, signal?: AbortSignal) => Promise<void> },
): Promise<Deployment> {
  const path = `/v1/deployments/${encodeURIComponent(known.id)}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await client.get<Deployment>(path, { signal: options.signal }).catch((error) => {
      if (isAbort(error)) throw error;
      return undefined;
    });
    if (current && isSettled(current.state)) return current;
    await options.sleep(200, options.signal);
  }
  const state = terminal.type === 'deploy.switched' ? 'draining' : terminal.type === 'deploy.succeeded' ? 'succeeded' : terminal.type === 'deploy.failed' ? 'failed' : 'interrupted';
  const error = terminal.type === 'deploy.failed' && terminal.data ? terminal.data : known.error;
  return { ...known, state, error };
}

/**
 * Prints the outcome: with --json, `json` (the Deployment unless the command documents another shape) on
 * stdout and any failure on stderr; otherwise the summary line or the error with its log tail.
 */
export function reportOutcome(ctx: Context, deployment: Deployment, json: unknown = deployment): number {
  const outcome = deploymentOutcome(deployment, ctx.globals.json ? ctx.err : ctx.out);
  if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify(json, null, 2) + '\n');
  else if (outcome.stdout) ctx.io.stdout.write(outcome.stdout);
  if (outcome.stderr) ctx.io.stderr.write(outcome.stderr);
  return outcome.exitCode;
}

/**
 * Follows `deployment` showing progress in `view`, and returns the final Deployment. Ctrl-C stops
 * following, not the deployment: the server carries on, the user is told how to check, and the result
 * is undefined.
 */
export async function followWithView(ctx: Context, deployment: Deployment, view: ProgressView): Promise<Deployment | undefined> {
  const client = await ctx.client();
  try {
    return await followDeployment(client, deployment, { onEvent: (event) => view.event(event), signal: ctx.interrupted() });
  } catch (error) {
    if (!isAbort(error)) throw error;
    view.close();
    ctx.io.stderr.write(`stopped following ${deployment.id}; the server carries on with it: \`berth status ${deployment.app}\`\n`);
    return undefined;
  } finally {
    view.close();
  }
}

/** followWithView with a fresh view, then reportOutcome: the whole of `rollback` and `env set` after their request. */
export async function followAndReport(
  ctx: Context,
  deployment: Deployment,
  options: { healthyAfter?: number; json?: (final: Deployment) => unknown } = {},
): Promise<number> {
  const view = progressViewFor(ctx, { upload: false, healthyAfter: options.healthyAfter });
  const final = await followWithView(ctx, deployment, view);
  if (!final) return EXIT_INTERRUPTED;
  return reportOutcome(ctx, final, options.json ? options.json(final) : final);
}
