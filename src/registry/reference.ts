/**
 * Image references for the registry and the layers above it: the grammar is ../lib/image-reference.ts (one
 * grammar for berth.yaml, the API, the registry client and pulls); here are its two faces that throw the
 * catalogue's IMAGE_REFERENCE_INVALID, which lib/ cannot import (it sits on the same floor as errors/).
 */
import { fail } from '../errors/catalogue.ts';
import { checkReference, digestProblem, nameOf, type ImageReference } from '../lib/image-reference.ts';

/** The reference, normalized and frozen; throws IMAGE_REFERENCE_INVALID naming what is wrong and the fix. */
export function parseReference(text: string): ImageReference {
  const result = checkReference(text);
  if (!result.ok) throw fail('IMAGE_REFERENCE_INVALID', { reference: text, reason: result.reason, fix: result.fix });
  return result.reference;
}

/** The reference pinned to one digest, without its tag: what a release records so a rollback runs the same bytes. */
export function pinReference(ref: ImageReference, digest: string): ImageReference {
  const issue = digestProblem(digest);
  if (issue) throw fail('IMAGE_REFERENCE_INVALID', { reference: `${nameOf(ref)}@${digest}`, reason: issue, fix: 'pin to a digest the registry reported' });
  return Object.freeze({ domain: ref.domain, path: ref.path, tag: undefined, digest });
}
