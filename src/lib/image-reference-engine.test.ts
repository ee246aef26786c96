/**
 * berth's grammar of image references against a real Docker engine's: every sample and 400 near-references
 * are asked of the engine (GET /images/{name}/json: 404 or 200 is a reference it parsed, 400 one it
 * refused), and berth must give the same verdict. One kind of reference is checked further: a first part
 * with a "." that is no host name (`ex_ample.com/x`), which the engine parses as a name without a registry
 * and berth refuses, must be one the engine cannot pull (it answers at once, without a connection).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { defaultSocketPath } from '../runtime/docker/engine-http.ts';
import { dockerSuite } from '../../test/support/docker.ts';
import { referenceFlaw, referenceParts } from './image-reference.ts';
import { INVALID_SAMPLES, nearReferences, VALID_SAMPLES } from './image-reference.test-support.ts';

describe('image references: berth agrees with the Docker engine', async () => {
  const docker = await dockerSuite();
  test('every reference berth accepts the engine parses; every one it refuses the engine refuses, or cannot pull', { skip: docker.skip }, async () => {
    const asked = [...new Set([...VALID_SAMPLES, ...INVALID_SAMPLES, ...nearReferences(400)])].filter(askable);
    const disagreements: string[] = [];
    let unpullable = 0;
    for (const reference of asked) {
      const flaw = referenceFlaw(reference);
      const engine = await engineParses(reference);
      if (engine.valid && flaw?.kind === 'host' && flaw.host.includes('_')) {
        // Parsed by the engine as a name on no registry: berth refuses it only if a pull cannot work either.
        // Only asked with a "_" in the host, which no registry host the engine reads has: the pull cannot
        // leave this machine whatever the engine makes of it.
        const pull = await enginePulls(reference);
        if (!/no Host in request URL/.test(pull)) disagreements.push(`${JSON.stringify(reference)}: berth refuses its host, and the engine's pull did not fail for want of one: ${pull}`);
        unpullable++;
        continue;
      }
      if (engine.valid !== (flaw === undefined)) {
        disagreements.push(`${JSON.stringify(reference)}: engine ${engine.valid ? 'accepts' : `refuses (${engine.message})`}, berth ${flaw ? `refuses (${flaw.kind})` : 'accepts'}`);
      }
    }
    assert.deepEqual(disagreements, []);
    const accepted = asked.filter((reference) => referenceFlaw(reference) === undefined).length;
    assert.ok(accepted > 100 && asked.length - accepted > 100, `${accepted} of ${asked.length} accepted: too few of one kind to compare`);
    assert.ok(unpullable >= 2, `${unpullable} references with a host that is no host name: too few to compare`);
  });
});

/**
 * References the engine can be asked about through GET /images/{name}/json: the HTTP server cleans the
 * path first, so a reference with an empty, `.` or `..` part cannot be asked, nor one with a control
 * character, which its router does not route (`page not found`). Left out as well: a 64-digit
 * hex string, which that endpoint reads as an image ID (a pull refuses it, as berth does), and an upper-case
 * first part without `.` or `:` (`Foo/bar`), which Docker 20 refuses as berth does but newer engines take
 * for a registry host.
 */
function askable(reference: string): boolean {
  if (/^[a-f0-9]{64}$/.test(reference) || /[\u0000-\u001f\u007f]/.test(reference)) return false;
  const parts = reference.split('@')[0].split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return false;
  return !(parts.length > 1 && /[A-Z]/.test(parts[0]) && !/[.:]/.test(parts[0]));
}

/** The engine's verdict: 404 (no such image) or 200 is a reference it parsed, 400 one it refused. */
function engineParses(reference: string): Promise<{ valid: boolean; message: string }> {
  return engineCall('GET', `/images/${encodeURIComponent(reference)}/json`).then(({ status, message }) => {
    // The engine names what it parsed: proof it was asked about exactly this reference.
    if (status !== 200 && !message.startsWith(`no such image: ${reference}`)) throw new Error(`the engine answered about something else: ${status} ${message}`);
    if (status === 200 || status === 404) return { valid: true, message };
    if (status === 400) return { valid: false, message };
    throw new Error(`unexpected answer ${status} for ${JSON.stringify(reference)}: ${message}`);
  });
}

/** The engine's answer to a pull of the reference (POST /images/create); for names it cannot send anywhere. */
async function enginePulls(reference: string): Promise<string> {
  const { name, tag, digest } = referenceParts(reference);
  const query = new URLSearchParams({ fromImage: name, tag: digest ?? tag ?? 'latest' });
  const { status, message } = await engineCall('POST', `/images/create?${query}`);
  return `${status} ${message}`;
}

function engineCall(method: string, path: string): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: defaultSocketPath(), method, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 64 * 1024) body += chunk;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let message = '';
        if (status !== 200) {
          try {
            message = String((JSON.parse(body) as { message?: unknown }).message);
          } catch {
            message = body.slice(0, 300);
          }
        } else if (method === 'POST') {
          // A pull that started streams its progress: the error, if any, is in the last message.
          message = body.slice(-300);
        }
        resolve({ status, message });
      });
    });
    req.on('timeout', () => req.destroy(new Error('the engine did not answer within 10s')));
    req.on('error', reject);
    req.end();
  });
}
