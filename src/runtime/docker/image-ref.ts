/**
 * What a pull asks the engine for (pure). References are read with berth's one grammar
 * (../../lib/image-reference.ts), which accepts only what every supported engine can pull: an invalid one
 * fails here with IMAGE_REFERENCE_INVALID and its fix, before the engine is asked. Which registry a
 * reference names is `registryOf` of that module.
 */
import { fail } from '../../errors/catalogue.ts';
import { checkReference, DEFAULT_TAG, referenceParts } from '../../lib/image-reference.ts';

export interface PullTarget {
  /** `fromImage` of POST /images/create: the name as written, without tag or digest. */
  fromImage: string;
  /**
   * `tag` of POST /images/create: the tag, the digest (`sha256:...`, which the engine takes there too), or
   * `latest`. Never empty: an empty tag makes the engine pull every tag of the repository.
   */
  tag: string;
}

/**
 * `redis:7` -> redis + 7, `ghcr.io/a/b@sha256:..` -> ghcr.io/a/b + sha256:.., `127.0.0.1:5000/x` -> .. + latest.
 * A digest wins over a tag written next to it (`name:tag@sha256:...`), as the engine decides. Throws
 * IMAGE_REFERENCE_INVALID.
 */
export function pullTarget(ref: string): PullTarget {
  const checked = checkReference(ref);
  if (!checked.ok) throw fail('IMAGE_REFERENCE_INVALID', { reference: ref, reason: checked.reason, fix: checked.fix });
  const { reference } = checked;
  return { fromImage: referenceParts(ref).name, tag: reference.digest ?? reference.tag ?? DEFAULT_TAG };
}

/**
 * Whether `ref` is an image id (`sha256:<64 hex>`), as build() returns: such an image is made here, never
 * pulled. Anything else is a reference the engine can pull.
 */
export function isImageId(ref: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(ref);
}
