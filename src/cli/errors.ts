/**
 * How failures end the CLI. Catalogue errors (BerthError, locally or from the API) are the norm; CliError
 * covers the few outcomes that only the CLI has (a refused overwrite, a mistyped confirmation), which have
 * no API code to share.
 */
import { isBerthError } from '../errors/catalogue.ts';
import type { ErrorLike } from './format.ts';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** What shells report for Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

export class CliError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, hint?: string, exitCode = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (isBerthError(error) && error.code === 'USAGE') return EXIT_USAGE;
  if (isAbort(error)) return EXIT_INTERRUPTED;
  return EXIT_FAILURE;
}

/** What to print for any thrown value; unexpected errors keep their stack out of the user's way. */
export function describeError(error: unknown): ErrorLike {
  if (isBerthError(error)) return { code: error.code, message: error.message, hint: error.hint, details: error.details };
  if (error instanceof CliError) return { message: error.message, hint: error.hint };
  if (isAbort(error)) return { message: 'interrupted' };
  const message = error instanceof Error ? error.message : String(error);
  return { message, hint: 'this looks like a bug in berth; run again with BERTH_DEBUG=1 for the stack trace' };
}

export function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'AbortError';
}
