import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Input, Operation } from './input-spec.ts';

/** What a handler gets: path params, and the query and JSON body already checked against its operation. */
export interface Request<O extends Operation = Operation> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly url: URL;
  readonly query: Input<O['query']>;
  readonly body: Input<O['body']>;
}

export type Handler<O extends Operation = Operation> = (request: Request<O>) => Promise<void> | void;

interface Route {
  operation: Operation;
  parts: string[];
  handler: Handler;
}

export type Match = { operation: Operation; handler: Handler; params: Record<string, string> } | { allowed: string[] } | undefined;

/** A path segment decoded; undefined when it is not valid percent-encoding (no route matches it). */
function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** Method + path patterns such as `/v1/apps/:app/releases`, each tied to its operation (./operations.ts). */
export class Router {
  readonly #routes: Route[] = [];

  on<O extends Operation>(operation: O, handler: Handler<O>): this {
    // The server checks query and body against this operation before calling, which is what makes the cast true.
    this.#routes.push({ operation, parts: operation.path.split('/').filter(Boolean), handler: handler as unknown as Handler });
    return this;
  }

  /** The operations served, in the order they were registered. */
  operations(): Operation[] {
    return this.#routes.map((route) => route.operation);
  }

  match(method: string, path: string): Match {
    // An empty segment (`/v1/apps//env`, a trailing slash) matches nothing: it is no app named "env".
    const parts = path.split('/').slice(1);
    if (parts.includes('')) return undefined;
    const allowed: string[] = [];
    for (const route of this.#routes) {
      if (route.parts.length !== parts.length) continue;
      // Null prototype: a param is only ever what the path said.
      const params = Object.create(null) as Record<string, string>;
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        if (!route.parts[i].startsWith(':')) ok = route.parts[i] === parts[i];
        else {
          const value = decode(parts[i]);
          if (value === undefined) ok = false;
          else params[route.parts[i].slice(1)] = value;
        }
      }
      if (!ok) continue;
      if (route.operation.method === method) return { operation: route.operation, handler: route.handler, params };
      allowed.push(route.operation.method);
    }
    return allowed.length ? { allowed } : undefined;
  }
}
