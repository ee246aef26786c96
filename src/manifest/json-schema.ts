/** The JSON Schema file for editors (schema/berth.schema.json), from the manifest schema. */
import type { JsonSchema } from './schema-dsl.ts';
import { manifestSchema } from './schema.ts';

/** Where editors fetch the schema; `berth init` names it in a yaml-language-server modeline. */
export const MANIFEST_SCHEMA_ID = 'https://berth.dev/schema/berth.schema.json';

export function manifestJsonSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: MANIFEST_SCHEMA_ID,
    title: 'berth.yaml',
    ...manifestSchema.jsonSchema(),
  };
}
