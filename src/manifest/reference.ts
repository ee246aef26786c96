/** The Markdown reference (docs/manifest.md), generated from the manifest schema. */
import { stringify } from 'yaml';
import { EDITOR_SCHEMA_PATH } from './json-schema.ts';
import { parseManifest } from './load.ts';
import { renderAnnotatedYaml } from './render-yaml.ts';
import { keyEntries, type KeyEntry } from './schema-walk.ts';
import { manifestSchema } from './schema.ts';
import { inlineYaml } from './show.ts';
import { MANIFEST_LIMITS } from './limits.ts';
import { PARSE_LIMITS } from './parse-off-thread.ts';
import type { Segment } from './path.ts';

/** A small broken file whose real error output the reference shows. */
const BROKEN_EXAMPLE = `name: Hello_World
helth:
  path: /health
processes:
  web:
    replicas: 0
deploy:
  drain_timeout: 30
`;

export function manifestReference(): string {
  const entries = keyEntries(manifestSchema);
  const parts = [
    '# berth.yaml reference',
    '<!-- Generated from src/manifest/schema.ts by `npm run gen:manifest`; do not edit by hand. -->',
    prose(manifestSchema.doc),
    'berth reads `berth.yaml` (or `berth.yml`) from the app\'s directory. A missing or empty file means every ' +
      'default below; `berth init` writes a commented file to start from.',
    '## Conventions',
    [
      '- A **duration** is a number with a unit: `500ms`, `5s`, `1.5m`, `2h`, `1d`. A bare number such as `5` is an error, not seconds.',
      '- A **size** is a number with a unit, `b`, `kb`, `mb` or `gb` (or `k`, `m`, `g`), in any case and counted in 1024s: `512mb` is 512 MiB, `1.5GB` is 1.5 GiB. A bare number is an error.',
      '- A **path in the app** (`static`, `dockerfile`) is relative to the app folder and stays inside it: no leading `/` and no `..`.',
      '- A key with nothing after it (such as `health:` with every line under it commented out) counts as unset.',
      '- Unknown keys are errors, so a misspelt key never goes unnoticed.',
      '- Errors name the key path (`processes.web.replicas`, `domains[1]`) and the line, say what was found and what to write instead.',
      '- Editors: [schema/berth.schema.json](../schema/berth.schema.json) is a JSON Schema (draft 2020-12). `berth init` copies it into ' +
        `the app folder as \`${EDITOR_SCHEMA_PATH}\` (\`.berth/\` is never uploaded) and writes the line \`# yaml-language-server: $schema=${EDITOR_SCHEMA_PATH}\`, ` +
        'which makes a YAML language server (such as the Red Hat YAML extension) complete and check berth.yaml.',
    ].join('\n'),
    '## Limits',
    limitsText(),
    '## Summary',
    summaryTable(entries),
    ...entries.map(section),
    '## Rules between keys',
    'Checked once every key is valid on its own:',
    crossRules(),
    '## Full example',
    fullExampleIntro(),
    fence(renderAnnotatedYaml({ root: manifestSchema, value: manifestSchema.example as Record<string, unknown> })),
    '## Errors',
    'Every problem in the file is reported at once. For this file:',
    fence(BROKEN_EXAMPLE),
    'berth reports:',
    fence(brokenOutput(), 'text'),
  ];
  return parts.join('\n\n') + '\n';
}

/** What berth reads at most, so that no berth.yaml can stall or exhaust the server. */
function limitsText(): string {
  const l = MANIFEST_LIMITS;
  return [
    'berth.yaml is a page or two (the file `berth init` writes is about 5 KB and 85 lines). berth refuses a file beyond these limits ' +
      'with an error naming the limit:',
    [
      `- at most ${l.maxBytes / 1024} KB (${l.maxBytes} bytes), judged from the file's size before it is read;`,
      `- at most ${l.maxLines} lines, counted before the YAML is parsed;`,
      `- at most ${l.maxKeys} keys in all, counting those that aliases (\`*name\`) repeat;`,
      `- mappings and lists nested at most ${l.maxDepth} levels deep;`,
      `- at most ${l.maxValues} values once aliases are expanded.`,
    ].join('\n'),
    `The server reads each uploaded berth.yaml off its main thread, in a worker that may take ${PARSE_LIMITS.timeoutMs / 1000} s and ` +
      `${PARSE_LIMITS.heapMb} MB of memory; a file that needs more (only contrived YAML does) is refused the same way.`,
    'Names of processes, services, volumes and variables are only keys: `constructor` or `toString` mean nothing special to berth.',
  ].join('\n\n');
}

/** The rules of the top level, between sections (src/manifest/sections/cross-checks.ts). */
function crossRules(): string {
  const shape = manifestSchema.shape;
  return shape.kind === 'object' ? shape.rules.map((r) => `- ${prose(r.doc)}`).join('\n') : '';
}

/** The full example leaves out keys that cannot go with the others (`static` replaces web's `command`). */
function fullExampleIntro(): string {
  const shape = manifestSchema.shape;
  const example = manifestSchema.example as Record<string, unknown>;
  const left = shape.kind === 'object' ? shape.fields.filter((f) => !(f.key in example)).map((f) => `\`${f.key}\``) : [];
  return left.length === 0 ? 'Every key, with the doc sentences as comments:' : `Every key but ${left.join(', ')} (see ${left.length === 1 ? 'its section' : 'their sections'}), with the doc sentences as comments:`;
}

function brokenOutput(): string {
  try {
    parseManifest(BROKEN_EXAMPLE);
  } catch (error) {
    return (error as Error).message + '\n';
  }
  throw new Error('the broken example in the reference parsed without errors');
}

function summaryTable(entries: readonly KeyEntry[]): string {
  const rows = entries.map((e) => `| \`${e.path}\` | ${cell(e.node.type)} | ${cell(defaultText(e))} | ${cell(e.node.allowed ?? '')} |`);
  return ['| Key | Type | Default | Allowed |', '|---|---|---|---|', ...rows].join('\n');
}

function section(entry: KeyEntry): string {
  const { node } = entry;
  const heading = `${entry.depth === 0 ? '##' : '###'} \`${entry.path}\``;
  const facts = [`- **Type:** ${prose(node.type)}`, `- **Default:** ${prose(defaultText(entry))}`];
  if (node.allowed) facts.push(`- **Allowed:** ${prose(node.allowed)}`);
  const shape = node.shape.kind === 'shorthand' ? node.shape.object.shape : node.shape;
  const rules = shape.kind === 'object' ? shape.rules.map((r) => `- **Rule:** ${prose(r.doc)}`) : [];
  const parts = [heading, prose(node.doc)];
  if (node.details) parts.push(prose(node.details));
  parts.push([...facts, ...rules].join('\n'), 'Example:', fence(stringify(nest(entry.examplePath, node.example), { lineWidth: 0 })));
  return parts.join('\n\n');
}

function defaultText(entry: KeyEntry): string {
  const { node } = entry;
  // A map entry exists only when written; its default is what `key:` with nothing after it means.
  if (entry.inRecord) return node.default === undefined ? '—' : `\`${inlineYaml(node.default)}\` (for \`${entry.key}:\` with nothing after it)`;
  if (node.kind === 'object' && !node.optional) return node.unset ?? 'the default of each key';
  if (node.default !== undefined) return `\`${inlineYaml(node.default)}\``;
  if (node.optional) return node.unset ? `unset: ${node.unset}` : 'unset';
  return node.required ? `none, required: ${node.required}` : 'none, required';
}

function nest(path: readonly Segment[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, segment) => (typeof segment === 'number' ? [inner] : { [segment]: inner }), value);
}

function fence(text: string, lang = 'yaml'): string {
  return `\`\`\`${lang}\n${text.trimEnd()}\n\`\`\``;
}

/** Escapes Markdown in prose, leaving `code spans` alone: `<name>` would otherwise vanish as an HTML tag. */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/[<>*_]/g, (c) => `\\${c}`)))
    .join('');
}

function cell(text: string): string {
  return prose(text).replace(/\|/g, '\\|');
}
