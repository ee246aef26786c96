/**
 * Which Engine API version berth speaks with an engine, chosen the way the official Docker clients do:
 * the engine says (unversioned GET /version) the newest version it speaks and the oldest it still
 * accepts, and berth speaks the newest version both sides know. Pinning one version stopped working
 * with Docker Engine 29, which refuses everything below 1.44.
 */

/** The oldest version berth works with: its calls were written against 1.41 (Docker 20.10, Debian 12's docker.io). */
export const OLDEST_API_VERSION = '1.41';

/**
 * The newest version berth has been checked against. Every change from 1.42 to 1.47 in the Engine API
 * version history was read against the calls in ./engine-http.ts, and none changes what berth sends or reads:
 *   1.42  logs and exec streams carry a multiplexed content type (berth reads frame headers, not the type);
 *         volume prune spares named volumes (berth prunes nothing through the API)
 *   1.43  untagged images list RepoTags [] instead of `<none>:<none>` (berth reads no RepoTags from lists)
 *   1.44  network create always refuses a duplicate name and deprecates CheckDuplicate (berth sends it only
 *         below 1.44, as the official client does); image inspect may omit Created (read as 0); VirtualSize
 *         is gone (berth reads Size); read-only binds turn recursive (berth mounts nothing read-only)
 *   1.45  container inspect's Aliases lose the short id (berth sets its own aliases, never reads them back)
 *   1.46  builds emit image `create` events (berth's event filter asks for containers only)
 *   1.47  image lists can carry Manifests, when asked (berth does not ask)
 * Not higher yet: 1.48 deprecates the `error` field of build messages, which is what berth's build failure
 * detection keys on (./engine-build.ts), and 1.52 drops event fields and negotiates /events' content type.
 * Read those against berth's code before raising this. Docker 27 speaks 1.47; Engine 29 accepts 1.44-1.52.
 */
export const NEWEST_API_VERSION = '1.47';

/** The two fields of the engine's GET /version answer that negotiation reads. */
export interface EngineApiRange {
  ApiVersion?: unknown;
  MinAPIVersion?: unknown;
}

export type ApiChoice = { version: string } | { tooOld: string };

export function chooseApiVersion(server: EngineApiRange): ApiChoice {
  const newest = parse(server.ApiVersion);
  // An engine that does not say (a proxy in between?) gets the version berth always spoke; its answer to
  // the first real call tells whether that works.
  if (!newest) return { version: OLDEST_API_VERSION };
  if (compare(newest, parse(OLDEST_API_VERSION)!) < 0) return { tooOld: format(newest) };
  let chosen = compare(newest, parse(NEWEST_API_VERSION)!) < 0 ? newest : parse(NEWEST_API_VERSION)!;
  // Engine 29+ refuses clients below its MinAPIVersion (1.44). Should a later engine's floor pass
  // NEWEST_API_VERSION, berth speaks that floor: newer than it was checked against beats not working at all.
  const floor = parse(server.MinAPIVersion);
  if (floor && compare(chosen, floor) < 0) chosen = floor;
  return { version: format(chosen) };
}

/** Orders two API versions, such as `1.9` < `1.41` < `1.44`; one that is not `major.minor` sorts first. */
export function compareApiVersions(a: string, b: string): number {
  return compare(parse(a) ?? [0, 0], parse(b) ?? [0, 0]);
}

type Version = [major: number, minor: number];

function parse(value: unknown): Version | undefined {
  const match = typeof value === 'string' ? /^v?(\d+)\.(\d+)$/.exec(value.trim()) : null;
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1];
}

function format(version: Version): string {
  return `${version[0]}.${version[1]}`;
}
