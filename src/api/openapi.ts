/**
 * The control API as an OpenAPI 3.1 document, made from what the server itself runs on: the endpoints
 * and what they accept (./operations.ts), what they answer (./responses.ts, the wire shapes of
 * ../model/wire.ts) and the error catalogue with its statuses. Served at GET /v1/openapi.json and
 * written to docs/openapi.json by `npm run gen:openapi`; a test keeps the three in step.
 */
import { ApiError, type OpenApiDocument } from '../model/wire.ts';
import { errorStatus } from './error-status.ts';
import type { Operation } from './input-spec.ts';
import { bodySchema, inputSchema, SchemaComponents, type JsonSchema } from './openapi-schema.ts';
import { operations, type OperationName } from './operations.ts';
import { responses, type ResponseSpec, type Responses } from './responses.ts';

export const OPENAPI_FILE = 'docs/openapi.json';
export const GENERATE_OPENAPI_COMMAND = 'npm run gen:openapi';

/** `/v1/apps/:app/env` as OpenAPI writes it: `/v1/apps/{app}/env`. */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

export function openApiDocument(): OpenApiDocument {
  const components = new SchemaComponents();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [name, operation] of Object.entries(operations) as [OperationName, Operation][]) {
    const path = openApiPath(operation.path);
    (paths[path] ??= {})[operation.method.toLowerCase()] = operationObject(name, operation, responses[name], components);
  }
  const error = components.of(ApiError);
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'berth control API',
      version: 'v1',
      description:
        'JSON over HTTP; every endpoint needs `Authorization: Bearer <token>` (the admin token is in DATA/admin-token). ' +
        'Requests are strict: unknown fields and query parameters, wrong types and values out of bounds are 400 REQUEST_INVALID. ' +
        'Times are ISO 8601 strings in UTC. More in docs/api.md.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the admin token (DATA/admin-token), or one `berth login` stored' } },
      schemas: components.all(),
      responses: {
        Error: {
          description: 'an error of the catalogue: a stable code, a message, a hint; `x-status-by-code` says which status each code comes with',
          'x-status-by-code': errorStatus,
          content: { 'application/json': { schema: error } },
        },
      },
    },
  };
  return document;
}

/** The document as docs/openapi.json holds it. */
export const openApiText = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

function operationObject(name: OperationName, operation: Operation, answers: Responses, components: SchemaComponents): JsonSchema {
  const pathParams = [...operation.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const queryParams = Object.entries(operation.query ?? {}).map(([key, field]) => ({
    name: key,
    in: 'query',
    required: 'required' in field && field.required === true,
    ...(field.doc !== undefined ? { description: field.doc } : {}),
    schema: inputSchema({ ...field, doc: undefined }),
  }));
  const parameters = [...pathParams, ...queryParams];
  return {
    operationId: name,
    summary: operation.summary,
    ...(parameters.length ? { parameters } : {}),
    ...requestBody(operation),
    responses: {
      ...Object.fromEntries(Object.entries(answers).map(([status, spec]) => [status, responseObject(spec, components)])),
      default: { $ref: '#/components/responses/Error' },
    },
  };
}

function requestBody(operation: Operation): JsonSchema {
  if (operation.archive) {
    return { requestBody: { required: true, description: 'a gzip-compressed tar of the app folder', content: { 'application/gzip': {} } } };
  }
  if (!operation.body) return {};
  const required = Object.values(operation.body).some((field) => field.required === true);
  return { requestBody: { required, content: { 'application/json': { schema: bodySchema(operation.body) } } } };
}

function responseObject(spec: ResponseSpec, components: SchemaComponents): JsonSchema {
  const content: JsonSchema = {};
  if (spec.json) content['application/json'] = { schema: components.of(spec.json) };
  if (spec.text) content[spec.text] = { schema: { type: 'string' } };
  if (spec.events) {
    content['text/event-stream'] = {
      schema: { type: 'string', description: 'server-sent events: `event: <name>`, `data: <JSON>`; `x-events` gives the shape of the data of each event name' },
      'x-events': Object.fromEntries(Object.entries(spec.events).map(([event, schema]) => [event, components.of(schema)])),
    };
  }
  return { description: spec.description, content };
}
