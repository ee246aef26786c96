/**
 * Services that follow their tag (`services.<name>.update`) run a digest, not the tag: a release records
 * the pinned image of each (ReleaseRecord.serviceImages), an update deploy of a service makes a release
 * with the new one, and a rollback to an older release runs that release's, so the old bytes come back.
 * Only images berth resolved are pinned; a service without a pin runs its `image` as written, as before.
 */
import type { Manifest } from '../manifest/schema.ts';
import type { ReleaseRecord } from '../model/records.ts';
import { recordOf } from '../lib/record.ts';

/**
 * The pins a new release takes (pure): the serving release's, for each service that still follows the
 * same tag, then `changed` (an update of one service) on top. A service whose `image` or `update` went
 * away in the new berth.yaml runs its image as written again.
 */
export function serviceImagesFor(serving: ReleaseRecord | undefined, manifest: Manifest, changed: Readonly<Record<string, string>> = {}): Record<string, string> {
  const kept = Object.entries(serving?.serviceImages ?? {}).filter(([name]) => {
    const now = manifest.services?.[name];
    const before = serving?.manifest.services?.[name];
    return now !== undefined && now.update !== undefined && before !== undefined && now.image === before.image;
  });
  return recordOf([...kept, ...Object.entries(changed)]);
}

/** What the release runs for a service: its pin, or the image as written. */
export const serviceImage = (release: Pick<ReleaseRecord, 'serviceImages' | 'manifest'>, name: string): string =>
  release.serviceImages?.[name] ?? release.manifest.services![name].image;
