/**
 * The worker thread that parses one berth.yaml for the server (./parse-off-thread.ts starts it): the
 * text comes in `workerData`, the Manifest or the MANIFEST_INVALID error goes back as one message.
 * Anything else thrown ends the worker with an error, which the server logs as a bug.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isBerthError } from '../errors/catalogue.ts';
import { parseManifest } from './load.ts';

export type ParseReply =
  | { readonly ok: true; readonly manifest: unknown }
  | { readonly ok: false; readonly error: { code: string; message: string; hint: string | undefined; details: Record<string, unknown> | undefined } };

const { text, file, image } = workerData as { text: string; file: string; image?: string };
let reply: ParseReply;
try {
  reply = { ok: true, manifest: parseManifest(text, { file, ...(image !== undefined ? { image } : {}) }) };
} catch (error) {
  if (!isBerthError(error)) throw error;
  reply = { ok: false, error: { code: error.code, message: error.message, hint: error.hint, details: error.details } };
}
parentPort!.postMessage(reply);
