/**
 * A small schema builder (a tiny zod) so that one definition of berth.yaml gives:
 *   - the resolved TypeScript type, defaults applied (`Infer<typeof node>`),
 *   - validation that collects every issue with its key path, what was found, what is expected and a fix,
 *   - a JSON Schema (draft 2020-12) for editors,
 *   - the data of the Markdown reference (./reference.ts) and of `berth init`'s commented file (./render-yaml.ts).
 *
 * Values are validated as plain data (what YAML or JSON parse to). A key that is absent, or present with
 * nothing after it (`key:` is null in YAML), is "unset": it takes its default, resolves to undefined when
 * optional, and is an issue otherwise. Resolved values are frozen as they are built.
 */
import { string, int, number, boolean, oneOf, duration, size } from './dsl-scalars.ts';
import { object } from './dsl-object.ts';
import { array, record, shorthand } from './dsl-collections.ts';

export type { AnyNode, Common, Field, Infer, Issue, JsonSchema, Kind, Node, Presence, Result, Rule, Shape, ValidateContext } from './dsl-node.ts';
export type { ObjectOut, ObjectRule, RuleProblem } from './dsl-object.ts';

/** The builders: `s.object({...})`, `s.duration({...})`, ... */
export const s = { string, int, number, boolean, enum: oneOf, duration, size, object, array, record, shorthand };
