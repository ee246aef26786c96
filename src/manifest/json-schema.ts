/** The JSON Schema file for editors (schema/berth.schema.json), from the manifest schema. */
import type { JsonSchema } from './schema-dsl.ts';
import { manifestSchema } from './schema.ts';

/** The schema's identifier ($id): a name, not an address anything is fetched from. */
export const MANIFEST_SCHEMA_ID = 'https://berth.dev/schema/berth.schema.json';
/** Where `berth init` puts a copy for editors, relative to the app folder (.berth/ is never uploaded). */
export const EDITOR_SCHEMA_PATH = '.berth/berth.schema.json';

export function manifestJsonSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: MANIFEST_SCHEMA_ID,
    title: 'berth.yaml',
    ...manifestSchema.jsonSchema(),
  };
}
