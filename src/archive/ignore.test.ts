import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileIgnoreRule, ignoredBy, parseIgnore } from './ignore.ts';

// [patterns, path, isDir, ignored]
const cases: [string, string, boolean, boolean][] = [
  // plain names match at any depth, files and folders alike
  ['foo', 'foo', false, true],
  ['foo', 'a/b/foo', false, true],
  ['foo', 'a/foo', true, true],
  ['foo', 'foobar', false, false],
  ['foo', 'a/foo/bar.txt', false, true], // through the excluded folder
  // * and ? stay within a segment
  ['*.log', 'x.log', false, true],
  ['*.log', 'a/b/x.log', false, true],
  ['*.log', 'x.log.txt', false, false],
  ['a*', 'abc', false, true],
  ['a*c', 'a/c', false, false],
  ['?.txt', 'a.txt', false, true],
  ['?.txt', 'ab.txt', false, false],
  ['a?b', 'a/b', false, false],
  // character classes
  ['[abc].js', 'b.js', false, true],
  ['[abc].js', 'd.js', false, false],
  ['file[0-9]', 'file7', false, true],
  ['file[0-9]', 'filex', false, false],
  ['file[!0-9]', 'filex', false, true],
  ['file[!0-9]', 'file7', false, false],
  ['file[^0-9]', 'filex', false, true],
  ['[]x]', ']', false, true],
  ['a[', 'a[', false, false], // unclosed: matches nothing, as in git
  ['a[\nb', 'b', false, true],
  // a leading slash anchors to the root
  ['/foo', 'foo', false, true],
  ['/foo', 'a/foo', false, false],
  ['/*.md', 'README.md', false, true],
  ['/*.md', 'docs/x.md', false, false],
  // a slash in the middle anchors too
  ['doc/*.txt', 'doc/a.txt', false, true],
  ['doc/*.txt', 'x/doc/a.txt', false, false],
  ['doc/*.txt', 'doc/sub/a.txt', false, false],
  // a trailing slash matches folders only
  ['build/', 'build', true, true],
  ['build/', 'build', false, false],
  ['build/', 'a/build', true, true],
  ['build/', 'build/out.js', false, true],
  ['/build/', 'src/build', true, false],
  // **
  ['**/foo', 'foo', false, true],
  ['**/foo', 'a/b/foo', false, true],
  ['**/foo/bar', 'x/foo/bar', false, true],
  ['a/**', 'a/x', false, true],
  ['a/**', 'a/x/y/z', false, true],
  ['a/**', 'a', true, false],
  ['a/**/b', 'a/b', false, true],
  ['a/**/b', 'a/x/y/b', false, true],
  ['a/**/b', 'a/x/y/c', false, false],
  ['a/**/b', 'xa/b', false, false],
  ['**', 'anything/at/all', false, true],
  ['a**b', 'axxb', false, true], // not a whole segment: like *
  ['a**b', 'a/b', false, false],
  // negation: the last matching rule wins
  ['*.log\n!keep.log', 'keep.log', false, false],
  ['*.log\n!keep.log', 'other.log', false, true],
  ['!keep.log\n*.log', 'keep.log', false, true],
  ['a/**\n!a/keep', 'a/keep', false, false],
  // ...but nothing comes back out of an excluded folder
  ['secret/\n!secret/ok.txt', 'secret/ok.txt', false, true],
  // the env rule as pack uses it: every name starting with .env, at any depth, files and folders
  ['.env*', '.env', false, true],
  ['.env*', '.env.local', false, true],
  ['.env*', 'api/.env.production', false, true],
  ['.env*', '.env.example', false, true],
  ['.env*', '.envrc', false, true],
  ['.env*', '.envs', true, true],
  ['.env*', '.envs/production/.django', false, true],
  ['.env*', 'environment.ts', false, false],
  ['.env*', 'my.env', false, false],
  ['.env*', 'a.env.local', false, false],
  // ...and applied after the user's lines, a negation before it changes nothing
  ['!.env.example\n.env*', '.env.example', false, true],
  // comments, blanks, escapes, trailing spaces, CRLF
  ['# comment\n\n   \nfoo', 'foo', false, true],
  ['# foo', '# foo', false, false],
  ['\\#foo', '#foo', false, true],
  ['\\!important', '!important', false, true],
  ['foo   ', 'foo', false, true],
  ['foo\r\n', 'foo', false, true],
  ['a\\*b', 'a*b', false, true],
  ['a\\*b', 'axb', false, false],
  // regex characters are literal
  ['a.b', 'axb', false, false],
  ['(x)+', '(x)+', false, true],
  ['$x^', '$x^', false, true],
];

for (const [patterns, path, isDir, expected] of cases) {
  test(`${JSON.stringify(patterns)} ${expected ? 'ignores' : 'keeps'} ${path}${isDir ? '/' : ''}`, () => {
    assert.equal(ignoredBy(parseIgnore(patterns), path, isDir) !== undefined, expected);
  });
}

test('blank lines and comments compile to nothing', () => {
  assert.equal(compileIgnoreRule(''), undefined);
  assert.equal(compileIgnoreRule('   '), undefined);
  assert.equal(compileIgnoreRule('# note'), undefined);
  assert.equal(compileIgnoreRule('/'), undefined);
  assert.equal(parseIgnore('a\n#b\n\nc/\n!d').length, 3);
});

test('ignoredBy names the rule that excludes, also when it excludes a parent folder', () => {
  const rules = parseIgnore('*.log\n!keep.log\nsecret/\n!secret/ok.txt');
  assert.equal(ignoredBy(rules, 'x/debug.log', false)?.source, '*.log');
  assert.equal(ignoredBy(rules, 'secret/ok.txt', false)?.source, 'secret/');
  assert.equal(ignoredBy(rules, 'keep.log', false), undefined);
});

test('a rule records how it was written', () => {
  const rule = compileIgnoreRule('!/build/')!;
  assert.deepEqual({ source: rule.source, negate: rule.negate, dirOnly: rule.dirOnly }, { source: '!/build/', negate: true, dirOnly: true });
});
