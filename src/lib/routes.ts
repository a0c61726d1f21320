import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { AppError, type FieldError, forbidden, invalidInput, invalidSchemaInput, unauthorized, unsupportedMediaType } from './errors.js';

/** Who is calling: the service admin, or a token of one newsroom. */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'newsroom'; newsroomId: string; tokenId: string };

/**
 * public: anyone (a token, if sent, is still read so that embargoed things can be shown);
 * token: any valid token; admin: the admin token only.
 */
export type Access = 'public' | 'token' | 'admin';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

type PrincipalOf<A extends Access> = A extends 'public' ? Principal | undefined : Principal;

export interface RouteInput<P, Q, B, A extends Access, L> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  principal: PrincipalOf<A>;
  /** What `load` gave. */
  loaded: L;
  req: Request;
  res: Response;
}

export interface RouteDefinition<
  P extends Schema | undefined = Schema | undefined,
  Q extends Schema | undefined = Schema | undefined,
  B extends Schema | undefined = Schema | undefined,
  A extends Access = Access,
  L = unknown,
> {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** Express path, e.g. /api/releases/:id */
  path: string;
  summary: string;
  tag: string;
  access: A;
  params?: P;
  query?: Q;
  /** JSON body schema. */
  body?: B;
  /** Describes a multipart body for the API document; the handler parses it. */
  multipart?: Schema;
  /** Describes a URL-encoded HTML form the path also takes, for the API document; the component's own page handler reads it. */
  form?: Schema;
  responses: Record<number, { description: string; schema?: Schema; contentType?: string }>;
  /**
   * Loads and authorizes the resource the path names, before the body is read: a client
   * learns it may not act here (404, 403) before it learns what is wrong with its body.
   */
  load?(input: { params: Out<P>; principal: PrincipalOf<A> }): Promise<L>;
  /** Return a Reply to have it sent as JSON, or write to `res` and return nothing. */
  handle(input: RouteInput<P, Q, B, A, L>): Promise<Reply | void> | Reply | void;
}

/** Keeps the generic types of one route while letting a list hold routes of any shape. */
export function defineRoute<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  A extends Access = Access,
  L = undefined,
>(route: RouteDefinition<P, Q, B, A, L>): RouteDefinition {
  return route as unknown as RouteDefinition;
}

export type Authenticate = (req: Request) => Promise<Principal | undefined>;

/**
 * Mounts routes as: authenticate -> validate path and query -> load and authorize the
 * resource -> validate the body -> handler (command, then presenter).
 */
export function mountRoutes(router: Router, routes: readonly RouteDefinition[], authenticate: Authenticate): void {
  for (const route of routes) {
    router[route.method](route.path, async (req: Request, res: Response) => {
      const principal = await authenticate(req);
      if (route.access !== 'public' && !principal) throw unauthorized();
      if (route.access === 'admin' && principal?.kind !== 'admin') {
        throw forbidden('Only the service admin token may do this.');
      }
      const params = parse(route.params, req.params, 'params');
      const query = parse(route.query, req.query, 'query');
      const loaded = await route.load?.({ params, principal } as never);
      let body: unknown;
      if (route.body) {
        const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'];
        if (hasBody && !req.is('application/json')) {
          throw unsupportedMediaType('Send the body as application/json.');
        }
        body = parse(route.body, req.body ?? {}, 'body');
      }
      const reply = await route.handle({ params, query, body, principal, loaded, req, res } as never);
      if (!reply) return;
      if (reply.headers) res.set(reply.headers);
      if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).json(reply.body);
    });
  }
  // A known path asked with a method it does not take: 405 naming the ones it does.
  const methods = new Map<string, Set<string>>();
  for (const route of routes) methods.set(route.path, (methods.get(route.path) ?? new Set()).add(route.method.toUpperCase()));
  for (const [path, allowed] of methods) {
    if (allowed.has('GET')) allowed.add('HEAD');
    const allow = [...allowed, 'OPTIONS'].join(', ');
    router.all(path, (req: Request, res: Response) => {
      res.set('Allow', allow);
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
      throw new AppError(405, 'method-not-allowed', `${req.method} is not allowed here; use ${allow}.`);
    });
  }
}

function parse(schema: Schema | undefined, value: unknown, where: 'body' | 'query' | 'params') {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw invalidSchemaInput(result.error, where);
  const proto = where === 'body' ? protoKeyPath(value) : undefined;
  const errors: FieldError[] = [
    ...(proto === undefined ? [] : [{ path: proto, message: 'the key "__proto__" is not allowed' }]),
    ...unstorableTexts(result.data, where === 'body' ? [] : [where]),
  ];
  if (errors.length) throw invalidInput(where, errors);
  return result.data;
}

/**
 * Where the parsed JSON has a `__proto__` key, if anywhere. Schemas of records drop such a
 * key without a word; refusing it is clearer. Only run on input its schema accepted.
 */
function protoKeyPath(value: unknown): string | undefined {
  type Frame = { node: unknown; key?: string; up?: Frame };
  const stack: Frame[] = [{ node: value }];
  while (stack.length) {
    const frame = stack.pop()!;
    const { node } = frame;
    if (typeof node !== 'object' || node === null) continue;
    if (Object.prototype.hasOwnProperty.call(node, '__proto__')) {
      const path = ['__proto__'];
      for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.up) path.unshift(f.key);
      return path.join('.');
    }
    for (const [key, item] of Object.entries(node)) {
      if (typeof item === 'object' && item !== null) stack.push({ node: item, key, up: frame });
    }
  }
  return undefined;
}

/** NUL, or half of a UTF-16 surrogate pair (sent as a lone `\ud800` escape). */
const UNSTORABLE = /\u0000|\p{Cs}/u;

/**
 * Text that no database column can hold as given: PostgreSQL refuses NUL in text, and a
 * lone surrogate would be stored as U+FFFD. Checked on the validated input (bounded by its
 * schema, so the walk stays shallow), keys included.
 */
function unstorableTexts(value: unknown, path: string[]): FieldError[] {
  const found = (where: string[], what: string) => ({
    path: where.join('.'),
    message: `${what} must not contain NUL characters or unpaired surrogates`,
  });
  if (typeof value === 'string') return UNSTORABLE.test(value) ? [found(path, 'text')] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => unstorableTexts(item, [...path, String(index)]));
  if (typeof value !== 'object' || value === null || value instanceof Date) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    UNSTORABLE.test(key) ? [found([...path, key], 'a key')] : unstorableTexts(item, [...path, key]),
  );
}
