import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { inspect } from 'node:util';
import { createMasker, maskDeep, MASK } from './mask-secrets.ts';
import { goQuoted } from './go-quote.ts';
import { NeedleSearch } from './needle-search.ts';

test('createMasker masks every occurrence, longest secret first, and ignores short values', () => {
  const mask = createMasker(['hunter22', 'hunter22-extended', 'ab', '']);
  assert.equal(mask('token=hunter22 again hunter22'), 'token=*** again ***');
  assert.equal(mask('x=hunter22-extended'), 'x=***');
  assert.equal(mask('ab stays'), 'ab stays');
  assert.equal(createMasker([])('plain'), 'plain');
  assert.equal(createMasker(['trailing-blank-secret  '])('x trailing-blank-secret'), 'x ***', 'a printed line loses the blanks at its end');
});

const QUOTES = `q"uo'te\\back\\\\slash`;
const TAB = 'tab\tseparated\tsecret';
const HOSTILE = '"},{"a":"';
const UNICODE = 'pässwörd-秘密-🔑-ключ\u00a0end';

test('a secret is masked in each spelling berth writes: raw, JSON-escaped, util.inspect-quoted, Go-quoted, shell-quoted', () => {
  const mask = createMasker([QUOTES, TAB, HOSTILE, UNICODE]);
  for (const secret of [QUOTES, TAB, HOSTILE, UNICODE]) {
    const spellings = {
      raw: `value: ${secret} end`,
      json: JSON.stringify({ line: `value: ${secret}` }),
      inspect: inspect({ token: secret }),
      inspectInLongerString: inspect(`a "quoted" 'text' with \`ticks\` and ${secret}`),
      go: `invalid env: "${goQuoted(`A=${secret}`)}": unknown`,
      shell: `run: echo '${secret.replaceAll("'", "'\\''")}'`,
    };
    for (const [form, text] of Object.entries(spellings)) {
      const masked = mask(text);
      assert.ok(masked.includes(MASK), `${form} of ${JSON.stringify(secret)}: ${masked}`);
      for (const piece of [secret, JSON.stringify(secret).slice(1, -1), inspect(secret).slice(1, -1), goQuoted(secret)]) {
        assert.ok(!masked.includes(piece), `${form} of ${JSON.stringify(secret)} still shows ${piece}: ${masked}`);
      }
    }
  }
});

test('Go quoting follows strconv.Quote: short escapes, \\x for other C0 and DEL, \\u for other unprintables', () => {
  assert.equal(goQuoted('a"b\\c\n\t\r\x07\b\f\v'), 'a\\"b\\\\c\\n\\t\\r\\a\\b\\f\\v');
  assert.equal(goQuoted('x\x00\x1b\x7f'), 'x\\x00\\x1b\\x7f');
  assert.equal(goQuoted('é 秘 🔑 \u00a0 \u2028 \u0085'), 'é 秘 🔑 \\u00a0 \\u2028 \\u0085');
});

test('a multi-line secret (a PEM key, LF or CRLF) is masked whole and line by line; lines too short to matter are not', () => {
  const body = ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj', 'abc'];
  for (const eol of ['\n', '\r\n']) {
    const pem = ['-----BEGIN PRIVATE KEY-----', ...body, '-----END PRIVATE KEY-----'].join(eol);
    const mask = createMasker([pem]);
    assert.equal(mask(`key=${pem}!`), 'key=***!');
    assert.equal(mask(`key=${JSON.stringify(pem)}`), 'key="***"');
    assert.equal(mask(inspect({ pem })).includes(body[0]), false, 'util.inspect prints a long multi-line string as one piece per line');
    for (const line of pem.split(eol)) {
      assert.equal(mask(`[app] ${line}`), line.trim().length >= 4 ? '[app] ***' : `[app] ${line}`);
    }
    assert.equal(mask('  BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\r'), '  ***\r');
  }
});

test('overlapping secrets are masked as one run, never left in pieces', () => {
  const mask = createMasker(['abcdef', 'zzabc', 'efgh1']);
  assert.equal(mask('1 zzabcdefgh1 2'), '1 *** 2');
  assert.equal(mask('abcdef zzabc'), '*** ***');
  assert.equal(mask('abcdefabcdef'), '******', 'two occurrences that touch are two runs');
});

test('the message of a real Node error about a value with NUL (util.inspect, cut at 128 characters) is masked', () => {
  for (const secret of ['short\x00secret', `${'long-secret-'.repeat(20)}\x00tail`]) {
    let message = '';
    try {
      spawn('true', [], { env: { TOKEN: secret } });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.match(message, /null bytes/);
    const masked = createMasker([secret])(message);
    assert.ok(masked.includes(MASK), masked);
    assert.ok(!masked.includes('secret'), masked);
  }
});

test('maskDeep masks the strings of event data at any depth and keeps the rest', () => {
  const mask = createMasker(['s3cr3t-value']);
  const data = { message: 'got s3cr3t-value', tail: ['a', 'b s3cr3t-value'], nested: { n: 1, ok: true, none: null, deeper: { v: 's3cr3t-value' } } };
  assert.deepEqual(JSON.parse(JSON.stringify(maskDeep(data, mask))), {
    message: 'got ***',
    tail: ['a', 'b ***'],
    nested: { n: 1, ok: true, none: null, deeper: { v: '***' } },
  });
  let deep: unknown = 's3cr3t-value';
  for (let i = 0; i < 40; i++) deep = { deep };
  assert.ok(!JSON.stringify(maskDeep(deep, mask)).includes('s3cr3t'), 'too deep is cut, not kept');
});

test('NeedleSearch finds exactly what a naive search finds (random texts and needles)', () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = 'abcab\n"\\é🔑';
  const word = (min: number, max: number) => Array.from({ length: min + random(max - min + 1) }, () => alphabet[random(alphabet.length)]).join('');
  for (let round = 0; round < 400; round++) {
    // Every 4th round: strings longer than the largest shift a table entry holds (255).
    const long = round % 4 === 3;
    const needles = [...new Set(Array.from({ length: 1 + random(6) }, () => (long ? 'a'.repeat(300) + word(0, 3) : word(2, 7))))];
    const text = long ? word(0, 20) + needles[0] + word(0, 20) + 'a'.repeat(random(400)) : word(0, 80);
    const found: [number, number][] = [];
    new NeedleSearch(needles).scan(text, (start, end) => found.push([start, end]));
    const expected: [number, number][] = [];
    for (let i = 0; i < text.length; i++) {
      const longest = needles.filter((n) => text.startsWith(n, i)).sort((a, b) => b.length - a.length)[0];
      if (longest) expected.push([i, i + longest.length]);
    }
    assert.deepEqual(found, expected, `needles ${JSON.stringify(needles)} in ${JSON.stringify(text)}`);
  }
});
