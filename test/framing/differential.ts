/**
 * Runs framing cases through a proxy to the recording upstream and compares what the upstream read with
 * what berth's parser read (./model.ts). Each case is followed by a canary request on a fresh client
 * connection, through the same one-connection upstream pool: bytes a case left on a pooled connection
 * (the start of a smuggled request) would swallow or corrupt the canary, which is how another user's
 * request gets captured in a real attack.
 */
import { METHODS, STATUS_CODES } from 'node:http';
import { exchange, type ClientResult } from './client.ts';
import type { FramingCase } from './corpus.ts';
import { HOST } from './corpus.ts';
import { expectedExchange, type ExpectedExchange, type ExpectedRequest } from './model.ts';
import type { Recorded, Recorder } from './recorder.ts';

export interface Lane {
  /** Port of the proxy under test. */
  port: number;
  recorder: Recorder;
}

export interface CaseOutcome {
  case: FramingCase;
  expected: ExpectedExchange;
  client: ClientResult;
  seen: Recorded[];
  problems: string[];
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
/** Headers berth writes itself, whatever the client's Connection header says. */
const NEVER_REMOVABLE = new Set(['content-length', 'transfer-encoding', 'host', 'close', 'keep-alive', 'upgrade', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

let canaries = 0;
const KNOWN_METHODS = new Set(METHODS);

export interface RunOptions {
  /** Collect the client's answers only: no canary, no comparison with the upstream, no wait for a close. */
  answersOnly?: boolean;
}

export async function runCase(lane: Lane, testCase: FramingCase, options: RunOptions = {}): Promise<CaseOutcome> {
  const stream = Buffer.concat(testCase.deliveries);
  const expected = expectedExchange(stream, HOST, KNOWN_METHODS);
  const before = lane.recorder.requests.length;
  const errorsBefore = lane.recorder.parseErrors.length;
  const waitClose = !options.answersOnly && expected.end !== 'open' && expected.end !== 'incomplete';
  const client = await exchange(lane.port, testCase.deliveries, expected.answers, { waitClose, timeoutMs: options.answersOnly ? 1000 : 3000 });
  const problems: string[] = [];
  const seen = lane.recorder.requests.slice(before);
  if (options.answersOnly) return { case: testCase, expected, client, seen, problems };

  const canaryPath = `/canary-${++canaries}`;
  const canary = await exchange(lane.port, [Buffer.from(`GET ${canaryPath} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`)], [{ status: 200, head: false }], { waitClose: false, timeoutMs: 2000 });
  const afterCanary = lane.recorder.requests.slice(before + seen.length);
  const canaryAnswer = canary.answers[0];
  if (!canaryAnswer || canaryAnswer.status !== 200 || bodyUrl(canaryAnswer.body) !== canaryPath) {
    problems.push(`the next client's request was not answered as its own (got ${canaryAnswer ? `${canaryAnswer.status} ${canaryAnswer.body.toString('latin1').slice(0, 80)}` : 'nothing'})`);
  }
  if (afterCanary.length !== 1 || afterCanary[0].url !== canaryPath || afterCanary[0].body.length !== 0) {
    problems.push(`the upstream read ${afterCanary.map(describe).join(', ') || 'nothing'} for the next client's request`);
  }

  // A request berth refused half-way (a bad chunk after its head went up) reaches the app cut short: llhttp
  // reports the early end of its message. That is the refusal arriving, not a disagreement.
  const aborted = expected.end === 'refused' || expected.end === 'incomplete';
  const parseErrors = lane.recorder.parseErrors.slice(errorsBefore).filter((e) => !(aborted && e.startsWith('HPE_INVALID_EOF_STATE')) && !(expected.unknownMethods.length > 0 && e.startsWith('HPE_INVALID_METHOD')));
  if (parseErrors.length) problems.push(`the upstream's parser refused what berth forwarded: ${parseErrors.join('; ')}`);

  if (seen.length !== expected.requests.length) {
    problems.push(`berth parsed ${expected.requests.length} request(s) [${expected.requests.map((r) => `${r.method} ${r.target}`).join(', ')}], the upstream read ${seen.length} [${seen.map(describe).join(', ')}]`);
  }
  for (let i = 0; i < Math.min(seen.length, expected.requests.length); i++) problems.push(...compareRequest(i, expected.requests[i], seen[i]));

  const statuses = client.answers.map((a) => a.status);
  const wanted = expected.answers.map((a) => a.status);
  if (statuses.join() !== wanted.join()) problems.push(`the client read statuses [${statuses}], expected [${wanted}]`);
  let forwarded = 0;
  for (let i = 0; i < Math.min(client.answers.length, expected.answers.length); i++) {
    const answer = client.answers[i];
    if (answer.status === 200 && expected.answers[i].status === 200) {
      const request = expected.requests[forwarded++];
      if (!expected.answers[i].head && request && bodyUrl(answer.body) !== request.target) {
        problems.push(`answer ${i + 1} belongs to ${bodyUrl(answer.body)}, not to ${request.target}: responses out of step`);
      }
    } else if (answer.status !== 101 && answer.reason !== STATUS_CODES[answer.status]) {
      problems.push(`answer ${i + 1} has reason phrase "${answer.reason}", not "${STATUS_CODES[answer.status]}"`);
    }
  }
  if (client.error) problems.push(`the client could not read the answers: ${client.error}`);
  if (expected.end === 'refused' || expected.end === 'close' || expected.end === 'upgrade') {
    if (!client.closed) problems.push(`the proxy kept the connection open after ${expected.end === 'refused' ? 'refusing a request' : 'a request that closes it'}`);
  } else if (client.closed && expected.end === 'open') {
    problems.push('the proxy closed a keep-alive connection');
  }
  return { case: testCase, expected, client, seen, problems };
}

function compareRequest(i: number, want: ExpectedRequest, got: Recorded): string[] {
  const problems: string[] = [];
  const at = `request ${i + 1} (${want.method} ${want.target})`;
  if (got.method !== want.method) problems.push(`${at}: the upstream read method ${got.method}`);
  if (got.url !== want.target) problems.push(`${at}: the upstream read target ${got.url}`);
  if (!got.body.equals(want.body)) problems.push(`${at}: the upstream read a body of ${got.body.length} bytes (${JSON.stringify(got.body.toString('latin1').slice(0, 60))}), berth ${want.body.length}`);
  const headers = pairs(got.headers);
  const values = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);
  const hosts = values('host');
  if (hosts.length !== 1 || hosts[0] !== want.rawHost) problems.push(`${at}: the upstream read Host ${JSON.stringify(hosts)}, berth ${want.rawHost}`);
  const lengths = values('content-length');
  const encodings = values('transfer-encoding');
  if (want.chunked) {
    if (encodings.join() !== 'chunked' || lengths.length) problems.push(`${at}: framing forwarded as CL ${lengths} / TE ${encodings}, berth read chunked`);
  } else if (want.contentLength >= 0) {
    if (lengths.join() !== String(want.contentLength) || encodings.length) problems.push(`${at}: framing forwarded as CL ${lengths} / TE ${encodings}, berth read Content-Length ${want.contentLength}`);
  } else if (lengths.length || encodings.length) problems.push(`${at}: framing forwarded as CL ${lengths} / TE ${encodings}, berth read no body`);
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name) && !(want.upgrade && (name === 'upgrade' || (name === 'connection' && value === 'Upgrade')))) problems.push(`${at}: hop-by-hop header ${name} reached the upstream`);
    if (want.connection.includes(name) && !NEVER_REMOVABLE.has(name)) problems.push(`${at}: ${name}, named in Connection, reached the upstream`);
  }
  const forwardedFor = values('x-forwarded-for');
  if (forwardedFor.join() !== '127.0.0.1') problems.push(`${at}: X-Forwarded-For reached the upstream as ${JSON.stringify(forwardedFor)}`);
  return problems;
}

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]);
  return out;
}

function bodyUrl(body: Buffer): string | undefined {
  try {
    return (JSON.parse(body.toString('utf8')) as { url?: string }).url;
  } catch {
    return undefined;
  }
}

const describe = (r: Recorded) => `${r.method} ${r.url}${r.body.length ? ` +${r.body.length}B` : ''}`;

/** Runs every case, `lanes.length` at a time (each lane one case after another). */
export async function runCorpus(lanes: Lane[], cases: FramingCase[], options: RunOptions = {}): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      for (;;) {
        const index = next++;
        if (index >= cases.length) return;
        outcomes[index] = await runCase(lane, cases[index], options);
      }
    }),
  );
  return outcomes;
}
