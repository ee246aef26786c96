/**
 * Tagging without taking over. Tagging an image `repo:tag` silently moves that tag off whatever image had
 * it, so before berth tags one of its images `<app>:<release>` or `<app>:<commit>`, it looks at what the
 * tag names now: nothing, or an image of this berth (its `berth.owner` label), and the tag is berth's to
 * set; anything else (an image someone built or pulled, or another berth's on the same engine) keeps it,
 * and the caller gets a warning to pass on instead.
 */
import type { DockerEngine, ImageSummary } from './engine.ts';
import { LABEL } from './names.ts';

export type TagVerdict = { ok: true } | { ok: false; reason: string };

export interface TagOutcome {
  ref: string;
  /** The ref names the image now (tagged by this call, or it already did). */
  tagged: boolean;
  /** Why the ref was left as it was, said for a log line. */
  warning?: string;
}

/**
 * May berth point a tag at one of its images, given the image the tag names now (pure)? Yes when the tag
 * names nothing or an image carrying this berth's owner label; otherwise no, with the reason.
 */
export function tagVerdict(current: Pick<ImageSummary, 'Id' | 'Labels'> | undefined, options: { ownerId: string }): TagVerdict {
  if (!current) return { ok: true };
  const owner = current.Labels?.[LABEL.owner];
  if (owner === options.ownerId) return { ok: true };
  const whose = owner ? `another berth's (${LABEL.owner}=${owner})` : `not berth's (it has no ${LABEL.owner} label)`;
  return { ok: false, reason: `it already names image ${shortId(current.Id)}, which is ${whose}` };
}

/** `app:v1` -> { repo: 'app', tag: 'v1' }; `registry:5000/app` -> tag `latest`, as the engine reads it. */
export function splitRef(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  if (colon === -1 || colon < ref.lastIndexOf('/')) return { repo: ref, tag: 'latest' };
  return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/**
 * Tags `image` (an id) as `ref` when the tag is free or already this berth's; leaves it alone otherwise.
 * Never throws: an engine error is a warning too, since a missing tag never breaks a deploy.
 */
export async function tagOwnImage(engine: Pick<DockerEngine, 'inspectImage' | 'tagImage'>, options: { image: string; ref: string; ownerId: string }): Promise<TagOutcome> {
  const { image, ref } = options;
  try {
    const current = await engine.inspectImage(ref);
    if (current?.Id === image) return { ref, tagged: true };
    const verdict = tagVerdict(current, options);
    if (!verdict.ok) return { ref, tagged: false, warning: `did not tag ${ref}: ${verdict.reason}; that tag was left as it is` };
    const { repo, tag } = splitRef(ref);
    await engine.tagImage(image, repo, tag);
    return { ref, tagged: true };
  } catch (error) {
    return { ref, tagged: false, warning: `did not tag ${ref}: ${(error as Error).message}` };
  }
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
