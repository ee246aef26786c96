/**
 * References to test the grammar of ./image-reference.ts with, shared by its table tests, its comparison
 * with a real engine and berth.yaml's pattern test: hand-written ones in every shape the grammar has (and
 * every way to break it), and seeded near-references, which find the cases nobody thought of.
 */

const hex = (n: number, digit = 'a') => digit.repeat(n);
const SHA = `sha256:${hex(64)}`;

/** Valid references, each shape the grammar has. */
export const VALID_SAMPLES: readonly string[] = [
  'redis',
  'redis:7',
  'redis:7-alpine',
  'redis:7.2-alpine',
  'library/redis',
  'library/redis:7.2.4',
  'docker.io/redis:7',
  'docker.io/library/mariadb:11',
  'index.docker.io/redis',
  'index.docker.io/acme/app:1',
  'acme/app',
  'acme/team/app:v1',
  'docker.io/library/foo/bar',
  'my-registry/app',
  'ghcr.io/acme/web:1.4',
  'ghcr.io/acme/team/web:v1.4.0-rc.1',
  `ghcr.io/acme/app@${SHA}`,
  `ghcr.io/acme/app:1.2@${SHA}`,
  'localhost/web',
  'localhost:5000/a/b:c',
  'localhost:5000',
  '127.0.0.1:5055/shop/web:latest',
  '127.0.0.1:5055/y',
  'HOST.example.com/x',
  'EXAMPLE.COM/app',
  'registry-1.example.com:443/a/b',
  'a.b/c__d/e-f/g---h/i.j_k',
  'a__b',
  'a--b',
  'a.b_c-d',
  'redis:_7',
  'redis:UPPER',
  `redis:${hex(128)}`,
  `mongo@${SHA}`,
  `mongo:7@sha256:${hex(64, '0')}`,
  `mongo@sha384:${hex(96)}`,
  `mongo@sha512:${hex(128)}`,
  `${hex(64)}:7`,
  'x.io:5000',
  `x.io/${'a'.repeat(250)}`,
  `${'a'.repeat(237)}`,
  `a/${'a'.repeat(243)}`,
];

/** Invalid references, each way to break one. */
export const INVALID_SAMPLES: readonly string[] = [
  'Redis:7',
  'ghcr.io/Acme/web',
  'Foo/bar',
  'Example/app',
  'Localhost/x',
  'a b',
  ' redis',
  'redis:7\n',
  'rédis',
  'https://ghcr.io/acme/web',
  'redis:',
  'redis:.7',
  'redis:-7',
  'redis:a!b',
  `redis:${hex(129)}`,
  'a:b:c',
  ':7',
  '@',
  `@${SHA}`,
  'redis@',
  'redis@sha256:abc',
  `redis@sha256:${hex(63)}`,
  `redis@sha256:${hex(65)}`,
  `redis@sha256:${hex(64, 'A')}`,
  `redis@sha512:${hex(64)}`,
  `redis@md5:${hex(32)}`,
  `a@${SHA}@${SHA}`,
  'a..b',
  'a___b',
  'a-.b',
  '-a',
  'a-',
  'a/-b',
  'acme/app-',
  'a/',
  '/a',
  'a//b',
  'x.io:abc/y',
  'x.io:/y',
  'host.com:port/app',
  '-x.io/y',
  'x-.io/y',
  'ex_ample.com/x',
  'exa_mple.com/app',
  '127.0.0.1_5055/a',
  '[::1]:5000/x',
  '[2001:db8::1]/app',
  '[::1/app',
  hex(64, 'b'),
  `${'a'.repeat(238)}`,
  `a/${'a'.repeat(244)}`,
  `x.io/${'a'.repeat(251)}`,
  'a'.repeat(300),
];

/** Near-references: valid ones built part by part, then bent by one edit. Seeded, so every run asks the same. */
export function nearReferences(count: number): string[] {
  // mulberry32: small, and random in its low bits too (a plain LCG modulo 2^31 is not).
  let seed = 20240611;
  const next = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const pick = <T>(items: readonly T[]): T => items[next(items.length)];
  const hosts = ['', '', 'ghcr.io/', 'localhost/', 'localhost:5000/', '127.0.0.1:5055/', 'Reg.Example.com/', 'a-b.io:1/'];
  const parts = ['a', 'redis', 'web', 'a.b', 'a_b', 'a__b', 'a-b', 'a--b', 'x1', '9'];
  const tags = ['', '', ':7', ':latest', ':v1.4.0-rc.1', ':_x', ':A'];
  const digests = ['', '', '', `@sha256:${hex(64, '1')}`];
  const edits = 'aZ09._-/:@ '.split('');
  const out: string[] = [];
  while (out.length < count) {
    const path = Array.from({ length: 1 + next(3) }, () => pick(parts)).join('/');
    let reference = pick(hosts) + path + pick(tags) + pick(digests);
    const at = next(reference.length + 1);
    const edit = next(4);
    if (edit === 1) reference = reference.slice(0, at) + pick(edits) + reference.slice(at);
    else if (edit === 2) reference = reference.slice(0, at) + reference.slice(at + 1);
    else if (edit === 3) reference = reference.slice(0, at) + pick(edits) + reference.slice(at + 1);
    if (reference !== '') out.push(reference);
  }
  return out;
}
