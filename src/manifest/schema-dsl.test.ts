import { test } from 'node:test';
import assert from 'node:assert/strict';
import { s, type Infer, type Issue, type Node } from './schema-dsl.ts';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const proc = s.object({
  doc: 'A process.',
  aliases: { cmd: 'command' },
  fields: {
    command: s.string({ doc: 'Command.', example: 'node w.js', notBlank: true, type: 'command' }),
    replicas: s.int({ doc: 'Count.', example: 2, default: 1, min: 1, max: 5 }),
  },
});

const sample = s.object({
  doc: 'Sample.',
  fields: {
    title: s.string({ doc: 'Title.', example: 'hi', optional: true, maxLength: 5, pattern: /^[a-z]+$/, patternHint: 'lowercase letters', suggest: (t) => t.toLowerCase() }),
    on: s.boolean({ doc: 'Switch.', example: true, default: false }),
    mode: s.enum({ doc: 'Mode.', values: ['fast', 'slow'], planned: ['warp'], example: 'fast', default: 'slow' }),
    wait: { as: 'waitMs', node: s.duration({ doc: 'Wait.', example: '2s', default: '1s', min: '100ms', max: '1m' }) },
    limit: { as: 'limitMs', node: s.duration({ doc: 'Limit.', example: '5s', default: '10s' }) },
    tags: s.array({ doc: 'Tags.', items: s.string({ doc: 'Tag.', example: 'a', type: 'tag' }), unique: true, maxItems: 5, default: [], example: ['a'] }),
    vars: s.record({
      doc: 'Vars.',
      keys: { name: 'variable name', placeholder: '<NAME>', pattern: /^[A-Z_]+$/, hint: 'capitals and `_`', suggest: (k) => k.toUpperCase().replace(/-/g, '_'), reserved: { names: ['PORT'], prefixes: ['X_'], message: (k) => `${k} is reserved`, fix: () => 'pick another' } },
      value: s.string({ doc: 'Value.', example: 'v', scalars: true }),
      default: {},
      example: { A: 'v' },
    }),
    procs: s.record({
      doc: 'Processes.',
      keys: { name: 'process name', placeholder: '<name>', pattern: /^[a-z]+$/, hint: 'lowercase letters' },
      known: { main: s.shorthand({ doc: 'Main.', key: 'command', object: proc, example: 'node m.js', default: { command: 'node main.js' } }) },
      value: s.shorthand({ doc: 'Other.', key: 'command', object: proc, example: 'node w.js' }),
      minEntries: 1,
      default: { main: null },
      example: { main: 'node m.js', other: 'node w.js' },
    }),
  },
  rules: [
    {
      doc: '`wait` must not be longer than `limit`.',
      check: (v) => (v.waitMs <= v.limitMs ? undefined : { key: 'wait', message: 'is longer than `limit`', fix: 'shorten it' }),
    },
  ],
});

function issuesOf(node: Node<unknown>, value: unknown): Issue[] {
  return node.validate(value, '', { root: node }).issues;
}

function one(node: Node<unknown>, value: unknown): Issue {
  const issues = issuesOf(node, value);
  assert.equal(issues.length, 1, `expected one issue, got ${JSON.stringify(issues, null, 2)}`);
  return issues[0];
}

test('the resolved type follows the schema: renames, defaults, optional keys, readonly collections', () => {
  type Out = Infer<typeof sample>;
  const exact: Equals<
    Out,
    {
      readonly title: string | undefined;
      readonly on: boolean;
      readonly mode: 'fast' | 'slow';
      readonly waitMs: number;
      readonly limitMs: number;
      readonly tags: readonly string[];
      readonly vars: Readonly<Record<string, string>>;
      readonly procs: Readonly<Record<string, { readonly command: string; readonly replicas: number }>>;
    }
  > = true;
  assert.equal(exact, true);
});

test('unset keys resolve to defaults, and everything resolved is frozen', () => {
  const { value, issues } = sample.validate(undefined);
  assert.deepEqual(issues, []);
  // Records are null-prototype objects: spread into ordinary ones to compare with literals.
  assert.deepEqual({ ...value, vars: { ...value.vars }, procs: { ...value.procs } }, {
    title: undefined,
    on: false,
    mode: 'slow',
    waitMs: 1000,
    limitMs: 10_000,
    tags: [],
    vars: {},
    procs: { main: { command: 'node main.js', replicas: 1 } },
  });
  assert.ok(Object.isFrozen(value) && Object.isFrozen(value.tags) && Object.isFrozen(value.procs) && Object.isFrozen(value.procs.main));
});

test('null counts as unset, for sections with every line commented out', () => {
  const { value, issues } = sample.validate({ on: null, wait: null, procs: null });
  assert.deepEqual(issues, []);
  assert.equal(value.waitMs, 1000);
  assert.deepEqual(Object.keys(value.procs), ['main']);
});

test('a string stands for the shorthand key, and issues in it are reported where it was written', () => {
  const { value } = sample.validate({ procs: { main: 'node a.js', other: { command: 'node b.js', replicas: 3 } } });
  assert.deepEqual({ ...value.procs }, { main: { command: 'node a.js', replicas: 1 }, other: { command: 'node b.js', replicas: 3 } });
  assert.equal(one(sample, { procs: { other: '  ' } }).path, 'procs.other');
  assert.equal(one(sample, { procs: { other: { replicas: 2 } } }).path, 'procs.other.command');
  assert.match(one(sample, { procs: { other: 5 } }).message, /expected a command or a mapping with `command:`, found the number 5/);
});

test('every issue is collected, with paths for keys, indexes and map entries', () => {
  const issues = issuesOf(sample, {
    title: 'Hello',
    on: 'yes',
    mode: 'warp',
    wait: '5 sec',
    tags: ['a', 'b', 'a', 7],
    vars: { 'my-var': 1, PORT: '1', X_Y: '2', N: { deep: true } },
    procs: { other: {} },
    extra: 1,
  });
  assert.deepEqual(
    issues.map((i) => i.path),
    ['extra', 'title', 'on', 'mode', 'wait', 'tags[2]', 'tags[3]', 'vars.my-var', 'vars.PORT', 'vars.X_Y', 'vars.N', 'procs.other.command'],
  );
  const by = Object.fromEntries(issues.map((i) => [i.path, i]));
  assert.match(by.title.message, /"Hello" is not a valid string: expected lowercase letters/);
  assert.equal(by.title.fix, 'write `title: hello`');
  assert.equal(by.on.fix, 'write `on: true`');
  assert.match(by.mode.message, /expected one of `fast` or `slow`, found the string "warp" \(`warp` is planned but not available yet\)/);
  assert.equal(by.wait.fix, 'write `wait: 5s`');
  assert.match(by['tags[2]'].message, /`a` is listed twice \(also at tags\[0\]\)/);
  assert.equal(by['vars.my-var'].fix, 'rename it to `MY_VAR`');
  assert.equal(by['vars.PORT'].message, 'PORT is reserved');
  assert.match(by['vars.N'].message, /found a mapping with key deep/);
  assert.match(by['procs.other.command'].message, /is required/);
});

test('unknown keys get a did-you-mean from aliases, spelling variants, edit distance or the rest of the schema', () => {
  assert.equal(one(sample, { tittle: 'a' }).message, 'unknown top-level key `tittle`; did you mean `title`?');
  assert.equal(one(sample, { WaIt: '1s' }).fix, 'rename `WaIt` to `wait`');
  assert.equal(one(sample, { procs: { main: { cmd: 'x' } } }).message, 'unknown key `cmd`; did you mean `command`?');
  const misplaced = one(sample, { replicas: 2 });
  assert.equal(misplaced.message, 'unknown top-level key `replicas`: `replicas` belongs at `procs.<name>.replicas`');
  const unrelated = one(sample, { zzz: 1 });
  assert.match(unrelated.message, /the keys allowed here are `title`, `on`, `mode`, `wait`, `limit`, `tags`, `vars`, `procs`/);
});

test('ints, durations and strings say what was found, what is expected and a valid value', () => {
  const replicas = one(sample, { procs: { main: { command: 'x', replicas: 9 } } });
  assert.equal(replicas.path, 'procs.main.replicas');
  assert.equal(replicas.message, 'expected a whole number from 1 to 5, found 9');
  assert.equal(replicas.fix, 'write `replicas: 5`');
  assert.equal(one(sample, { procs: { main: { command: 'x', replicas: '2' } } }).fix, 'remove the quotes: `replicas: 2`');
  assert.equal(one(sample, { procs: { main: { command: 'x', replicas: 1.5 } } }).fix, 'write `replicas: 2`');
  assert.equal(one(sample, { wait: 250 }).fix, 'add a unit: `wait: 250ms`');
  assert.equal(one(sample, { wait: '2m' }).message, 'expected a duration from 100ms to 1m, found 2m');
  assert.equal(one(sample, { wait: '2m' }).fix, 'write `wait: 1m`');
  assert.equal(one(sample, { title: 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz' }).message, 'is 52 characters long; at most 5 allowed');
  assert.match(one(sample, { title: 'x'.repeat(100) + 'Y' }).message, /characters long/);
});

test('long found values are truncated in messages', () => {
  const issue = one(sample, { mode: 'x'.repeat(500) });
  assert.ok(issue.message.length < 150, issue.message);
  assert.match(issue.message, /x…"/);
});

test('a single value where a list goes is offered as a list', () => {
  const issue = one(sample, { tags: 'a' });
  assert.match(issue.message, /expected a list .*found the string "a"/);
  assert.equal(issue.fix, 'write `tags: [ a ]`');
});

test('record rules: minimum entries, key patterns, and misspelt specific keys', () => {
  assert.match(one(sample, { procs: {} }).message, /has no entries; at least 1 needed/);
  const typo = one(sample, { procs: { mian: null } });
  assert.equal(typo.path, 'procs.mian');
  assert.match(typo.message, /has no value \(is `mian` a misspelling of `main`\?\)/);
});

test('object rules run once the fields are valid, and report at the named key', () => {
  const issue = one(sample, { wait: '30s', limit: '5s' });
  assert.deepEqual(issue, { path: 'wait', message: 'is longer than `limit`', fix: 'shorten it' });
  // With a broken field the rule stays quiet rather than judging half-resolved values.
  assert.deepEqual(issuesOf(sample, { wait: '30s', limit: 'soon' }).map((i) => i.path), ['limit']);
});

test('scalars kept as text take the text as written when the source has it', () => {
  const { value } = sample.validate({ vars: { A: 3.1, B: true, C: 7 } }, '', { sourceText: (path) => (path === 'vars.A' ? '3.10' : undefined) });
  assert.deepEqual({ ...value.vars }, { A: '3.10', B: 'true', C: '7' });
});

test('JSON Schema: descriptions, defaults, examples, closed objects, pattern-keyed maps', () => {
  const schema = sample.jsonSchema() as any;
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.type, ['object', 'null']);
  assert.equal(schema.properties.wait.default, '1s');
  assert.equal(schema.properties.wait.pattern, '^\\d+(\\.\\d+)?(ms|s|m|h|d)$');
  assert.match(schema.properties.wait.description, /^Wait\. Allowed: 100ms to 1m\.$/);
  assert.deepEqual(schema.properties.mode.enum, ['fast', 'slow']);
  assert.deepEqual(schema.properties.tags.uniqueItems, true);
  assert.deepEqual(schema.properties.vars.propertyNames, { pattern: '^[A-Z_]+$', not: { anyOf: [{ enum: ['PORT'] }, { pattern: '^X_' }] } });
  assert.deepEqual(schema.properties.vars.additionalProperties.type, ['string', 'number', 'boolean']);
  assert.ok(schema.properties.procs.properties.main.anyOf);
  assert.deepEqual(schema.properties.procs.additionalProperties.anyOf[1].required, ['command']);
  assert.deepEqual(schema.default.procs, { main: null });
  assert.deepEqual(schema.examples[0].wait, '2s');
});

// ------------------------------------------------------------------------ optional objects, resolve, rules

const check = s.object({
  doc: 'A check.',
  optional: true,
  misplaced: { probe: { message: 'probes belong to the gate', fix: 'move it to `gate`' } },
  fields: {
    file: s.string({ doc: 'File.', example: '/tmp/x', optional: true, normalize: (t) => t.trim() }),
    age: { as: 'ageMs', node: s.duration({ doc: 'Age.', example: '1m', default: '30s' }) },
    cpus: s.number({ doc: 'Cores.', example: 0.5, optional: true, min: 0.01, max: 4 }),
    memory: { as: 'memoryBytes', node: s.size({ doc: 'Memory.', example: '64mb', optional: true, min: '4mb', max: '1gb' }) },
    list: s.array({ doc: 'Items.', items: s.string({ doc: 'Item.', example: 'a' }), default: [], example: ['a'] }),
  },
  resolve: (c) => ({ heartbeat: c.file === undefined ? undefined : { file: c.file, ageMs: c.ageMs }, cpus: c.cpus, memoryBytes: c.memoryBytes, list: c.list }),
  rules: [
    {
      doc: 'Deep keys, several problems, and what was written.',
      check: (c, written) => [
        ...c.list.flatMap((item, index) => (item === 'bad' ? [{ key: ['list', index], message: 'is bad', fix: 'drop it' }] : [])),
        ...(written.age != null && c.heartbeat === undefined ? [{ key: 'age', message: 'needs a file', fix: 'add `file`' }] : []),
        ...(c.list.length > 2 ? [{ key: '', message: 'is too long', fix: 'shorten it' }] : []),
      ],
    },
  ],
  schema: { minProperties: 1 },
});

test('an optional object is undefined when unset, and its resolve shapes the value, deep-frozen', () => {
  const resolved: Equals<
    Infer<typeof check>,
    { heartbeat: { file: string; ageMs: number } | undefined; cpus: number | undefined; memoryBytes: number | undefined; list: readonly string[] } | undefined
  > = true;
  assert.equal(resolved, true);
  assert.deepEqual(check.validate(undefined), { value: undefined, issues: [] });
  assert.deepEqual(check.validate(null), { value: undefined, issues: [] });
  const { value, issues } = check.validate({ file: ' /tmp/hb ', cpus: 1, memory: '1.5MB', list: ['a'] });
  // Below the minimum: reported, not resolved.
  assert.deepEqual(issues.map((i) => i.path), ['memory']);
  assert.equal(value, undefined);
  const ok = check.validate({ file: ' /tmp/hb ', cpus: 1, memory: '8M' });
  assert.deepEqual(ok.value, { heartbeat: { file: '/tmp/hb', ageMs: 30_000 }, cpus: 1, memoryBytes: 8 * 1024 ** 2, list: [] });
  assert.ok(Object.isFrozen(ok.value) && Object.isFrozen(ok.value!.heartbeat));
});

test('rules see the resolved value and the written mapping, and report at deep paths, several at once', () => {
  const { issues } = check.validate({ age: '1m', list: ['a', 'bad', 'c'] }, 'x');
  assert.deepEqual(
    issues.map((i) => [i.path, i.message]),
    [['x.list[1]', 'is bad'], ['x.age', 'needs a file'], ['x', 'is too long']],
  );
});

test('a misplaced key gets its own explanation instead of "unknown key"', () => {
  assert.deepEqual(one(check, { probe: 1 }), { path: 'probe', message: 'probes belong to the gate', fix: 'move it to `gate`' });
});

test('numbers and sizes say what was found and offer a valid value', () => {
  assert.equal(one(check, { cpus: 9 }).fix, 'write `cpus: 4`');
  assert.equal(one(check, { cpus: '2' }).fix, 'remove the quotes: `cpus: 2`');
  assert.equal(one(check, { cpus: 'lots' }).message, 'expected a number from 0.01 to 4, found the string "lots"');
  assert.equal(one(check, { memory: '2gb' }).message, 'expected a size from 4mb to 1gb, found 2gb');
  assert.equal(one(check, { memory: '2gb' }).fix, 'write `memory: 1gb`');
  assert.equal(one(check, { memory: '64 MB' }).fix, 'write `memory: 64mb`');
  assert.equal(one(check, { memory: '64Mi' }).fix, 'write `memory: 64mb`');
  assert.equal(one(check, { memory: 64 }).fix, 'add a unit: `memory: 64mb`');
  assert.equal(one(check, { memory: 67_108_864 }).fix, 'add a unit: `memory: 64mb`');
  assert.equal(one(check, { memory: true }).fix, 'write `memory: 64mb`');
});

test('JSON Schema: an optional object admits null, numbers have bounds, extra keywords are added', () => {
  const schema = check.jsonSchema() as any;
  assert.deepEqual(schema.type, ['object', 'null']);
  assert.equal(schema.default, undefined);
  assert.equal(schema.minProperties, 1);
  assert.deepEqual([schema.properties.cpus.type, schema.properties.cpus.minimum, schema.properties.cpus.maximum], ['number', 0.01, 4]);
  assert.equal(schema.properties.memory.type, 'string');
});

/** Every name Object.prototype has, and `__proto__`: as record keys they are ordinary keys. */
const PROTOTYPE_NAMES = [...Object.getOwnPropertyNames(Object.prototype), '__proto__'];

test('record keys named like Object.prototype properties are ordinary keys of a null-prototype record', () => {
  const lower = s.record({
    doc: 'Any names.',
    keys: { name: 'name', placeholder: '<name>', pattern: /^[A-Za-z_]+$/, hint: 'letters and `_`' },
    known: { main: s.string({ doc: 'Main.', example: 'm' }) },
    value: s.string({ doc: 'Value.', example: 'v' }),
    example: { main: 'm' },
  });
  for (const name of PROTOTYPE_NAMES) {
    const written = Object.create(null) as Record<string, unknown>;
    written[name] = 'x';
    const { value, issues } = lower.validate(written, 'names');
    assert.deepEqual(issues, [], name);
    assert.equal(Object.getPrototypeOf(value), null, `${name}: the record has no prototype`);
    assert.deepEqual(Object.keys(value), [name]);
    assert.equal(value[name], 'x', name);
    // A name that is not there is not found through a prototype either.
    const other = name === 'constructor' ? 'toString' : 'constructor';
    assert.equal(value[other], undefined, `${name}: ${other} is not inherited`);
  }
});

test('unknown keys named like Object.prototype properties get no "did you mean" from an inherited property', () => {
  for (const name of PROTOTYPE_NAMES) {
    const written = Object.create(null) as Record<string, unknown>;
    written[name] = 1;
    written.command = 'node a.js';
    const issue = one(proc, written);
    assert.equal(issue.path, name);
    assert.equal(issue.message, `unknown top-level key \`${name}\`; the keys allowed here are \`command\`, \`replicas\``);
    assert.doesNotMatch(`${issue.message} ${issue.fix}`, /native code|\[object Object\]/, name);
  }
});

test('a string can explain its own problem in words; the pattern still guards, and the fix is still offered', () => {
  const version = s.string({
    doc: 'Version.',
    type: 'version',
    example: '1.2',
    pattern: /^\d+\.\d+$/,
    patternHint: 'two numbers with a dot',
    explain: (text) => (text.startsWith('v') ? 'a version has no `v` in front' : undefined),
    suggest: (text) => text.replace(/^v/, ''),
  });
  assert.deepEqual(version.validate('v1.2', 'version').issues, [{ path: 'version', message: '"v1.2" is not a valid version: a version has no `v` in front', fix: 'write `version: "1.2"`' }]);
  // Text the words let through still meets the pattern.
  assert.match(version.validate('1', 'version').issues[0].message, /^"1" is not a valid version: expected two numbers with a dot$/);
  assert.equal(version.validate('1.2', 'version').value, '1.2');
});

test('a bare number for a shorthand whose short form is a duration gets the duration\'s advice', () => {
  const every = s.shorthand({
    doc: 'Every.',
    key: 'interval',
    example: { interval: '5m' },
    optional: true,
    object: s.object({ doc: 'Every.', fields: { interval: { as: 'intervalMs', node: s.duration({ doc: 'Interval.', example: '5m', default: '5m' }) } } }),
  });
  assert.deepEqual(every.validate(5, 'every').issues.map((i) => [i.message, i.fix]), [['expected a duration such as `500ms`, `5s`, `1m` or `2h`, found the number 5 with no unit', 'add a unit: `every: 5s`']]);
  assert.deepEqual(every.validate('10s', 'every').value, { intervalMs: 10_000 });
  assert.match(every.validate(true, 'every').issues[0].message, /^expected a duration or a mapping with `interval:`, found the boolean true$/);
});
