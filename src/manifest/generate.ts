/** The files generated from the manifest schema, rendered in memory (the script writes them, a test compares them). */
import { manifestJsonSchema } from './json-schema.ts';
import { manifestReference } from './reference.ts';

export interface GeneratedFile {
  /** Relative to the repository root. */
  path: string;
  content: string;
}

export const GENERATE_COMMAND = 'npm run gen:manifest';

export function generatedFiles(): GeneratedFile[] {
  return [
    { path: 'schema/berth.schema.json', content: JSON.stringify(manifestJsonSchema(), null, 2) + '\n' },
    { path: 'docs/manifest.md', content: manifestReference() },
  ];
}
