import { isUtf8 } from 'node:buffer';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import { PUBLIC_BODY_LIMIT, readBody } from './bodies.js';
import { readForm } from './forms.js';
import {
  AppError,
  badRequest,
  type FieldError,
  forbidden,
  invalidInput,
  invalidSchemaInput,
  payloadTooLarge,
  unauthorized,
  unprocessable,
  unsupportedMediaType,
} from './errors.js';

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
  /** JSON body schema. The body is read only for routes that have one, after `load`. */
  body?: B;
  /**
   * Schema of an `application/x-www-form-urlencoded` body (HTML forms, the one-click
   * unsubscribe POST `List-Unsubscribe=One-Click`): read like `body`, at most
   * PUBLIC_BODY_LIMIT bytes; a field given once is a string, a field given more than once
   * (checkboxes) an array of strings. Its output is `body` in the handler. A route may
   * take both: the request's Content-Type picks the parser.
   */
  form?: Schema;
  /** Describes a multipart body for the API document; the handler parses it. */
  multipart?: Schema;
  responses: Record<number, { description: string; schema?: Schema; contentType?: string }>;
  /**
   * Error statuses this route gives beyond those its shape implies (see openapi.ts:
   * 400 for parameters, 401/403 for access, 404 for a path key, 413/415/422 for a body),
   * e.g. 409 for a lifecycle conflict, 410 for a withdrawn release.
   */
  errors?: number[];
  /** The OpenAPI operationId; derived from the method and path when not given. */
  operationId?: string;
  /**
   * A public route whose Authorization header is the handler's to check (a provider's
   * basic auth credentials), not a bearer token.
   */
  ownAuthorization?: boolean;
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
      const principal = route.ownAuthorization && route.access === 'public' ? undefined : await authenticate(req);
      if (route.access !== 'public' && !principal) throw unauthorized();
      if (route.access === 'admin' && principal?.kind !== 'admin') {
        throw forbidden('Only the service admin token may do this.');
      }
      const params = parse(route.params, req.params, 'params');
      const query = parse(route.query, req.query, 'query');
      const loaded = await route.load?.({ params, principal } as never);
      let body: unknown;
      const isForm = !!route.form && hasBody(req) && req.is('application/x-www-form-urlencoded') !== false;
      if (route.body && !isForm) {
        if (hasBody(req) && !req.is('application/json')) throw unsupportedMediaType('Send the body as application/json.');
        body = parse(route.body, await readJson(req, route.access === 'public' ? PUBLIC_BODY_LIMIT : JSON_LIMIT), 'body');
      } else if (route.form) {
        body = parse(route.form, await readFormFields(req), 'body');
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

/**
 * The routes as one handler that other requests pass by without being matched against
 * each route: a public page or feed would otherwise test every API path first.
 */
export function routesHandler(routes: readonly RouteDefinition[], authenticate: Authenticate): RequestHandler {
  const router = Router();
  mountRoutes(router, routes, authenticate);
  // Lower-cased, as express matches paths without regard to case.
  const firstSegments = new Set(routes.map((route) => (route.path.split('/')[1] ?? '').toLowerCase()));
  // A route whose first segment is a parameter could take any path.
  if ([...firstSegments].some((segment) => segment.startsWith(':'))) return router;
  return function routesUnderTheirPrefixes(req, res, next) {
    const end = req.path.indexOf('/', 1);
    const first = end < 0 ? req.path.slice(1) : req.path.slice(1, end);
    if (firstSegments.has(first.toLowerCase())) router(req, res, next);
    else next();
  };
}

/* ------------------------------------------------------------------ request bodies */

/**
 * A JSON body at most this large: JSON_LIMIT for staff, PUBLIC_BODY_LIMIT on a public
 * route. A form body (a subscribe form, an unsubscribe POST) at most PUBLIC_BODY_LIMIT,
 * with at most FORM_FIELDS fields.
 */
export const JSON_LIMIT = 5 * 1024 * 1024;
const FORM_FIELDS = 50;

/**
 * The shape any JSON body keeps to, checked on its bytes before it is parsed (see
 * checkJsonShape): nesting depth, keys in an object (no object of any route has more
 * than 12: the languages of a newsroom, its social networks), items in a list (the
 * longest any route takes is an import of 10 000 subscribers). A body is refused at the
 * first break, so that refusing it costs about what reading it does: validating 150 000
 * unknown language keys once held the service for 1.7 s, each one making its own error.
 * Within them, a body makes at most a few thousand schema issues.
 */
export const JSON_BOUNDS = { depth: 32, keys: 32, items: 10_000 };
export type JsonBounds = typeof JSON_BOUNDS;
export const JSON_DEPTH = JSON_BOUNDS.depth;

const hasBody = (req: Request) =>
  Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

/*
 * Bodies are read per route, after authentication and the resource load, so that
 * nobody without a right to act makes the service parse anything; a body over its
 * limit is refused as soon as that is known (see lib/bodies.ts).
 */

/** A JSON body: bytes checked (UTF-8, shape) before JSON.parse; none at all is `{}`. */
async function readJson(req: Request, limit: number): Promise<unknown> {
  const bytes = await readBody(req, limit, () => payloadTooLarge(`The request body is larger than the limit of ${limit} bytes.`));
  // UTF-8 only, as the contract says: the decoder would turn other bytes into U+FFFD unseen.
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') throw unsupportedMediaType('Only UTF-8 JSON is accepted.');
  return jsonOf(bytes);
}

/** Bytes as JSON, checked (UTF-8, shape) before JSON.parse; none at all is `{}`. */
function jsonOf(bytes: Buffer, listAllowed = false): unknown {
  if (!isUtf8(bytes)) throw badRequest('The request body is not valid UTF-8.');
  if (bytes.length === 0) return {};
  checkJsonShape(bytes, JSON_BOUNDS, listAllowed);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
}

/**
 * A JSON body a handler read itself (a webhook whose signature covers the exact bytes),
 * checked and validated as a route's `body` is; a list too, when the schema takes one.
 */
export function parseJsonBody<S extends Schema>(schema: S, bytes: Buffer): z.output<S> {
  return parse(schema, jsonOf(bytes, true), 'body') as z.output<S>;
}

/** A URL-encoded form (see lib/forms.ts): a field given once is a string, one given more than once a list. */
async function readFormFields(req: Request): Promise<Record<string, string | string[]>> {
  const form = [...(await readForm(req, { limit: PUBLIC_BODY_LIMIT }))];
  if (form.length > FORM_FIELDS) throw payloadTooLarge(`The form has more than ${FORM_FIELDS} fields.`);
  // No prototype: a field named __proto__ is a field.
  const fields: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of form) {
    const before = fields[name];
    fields[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return fields;
}

const BRACE = 0x7b, BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d, QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a, COMMA = 0x2c;

/**
 * Refuses, in one pass over the bytes and before JSON.parse runs, a body that is not a
 * JSON object (400), or one that breaks `bounds` (422, at the path where it first does):
 * nesting too deep, an object with too many keys, a list with too many items. Parsing
 * and validating such input costs time and stack for nothing.
 */
export function checkJsonShape(bytes: Uint8Array, bounds: JsonBounds = JSON_BOUNDS, listAllowed = false): void {
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x20 || bytes[start] === 0x0a || bytes[start] === 0x0d || bytes[start] === 0x09)) start++;
  if (start === bytes.length) return; // empty: the schema says what is missing
  if (bytes[start] !== BRACE && !(listAllowed && bytes[start] === BRACKET)) throw badRequest('The request body must be a JSON object.');
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  // Per open container: BRACE or BRACKET; its members so far (keys) or the index of the
  // item being read (lists); in an object, where the current key is in the bytes (decoded
  // only to name a path in an error).
  const kinds: number[] = [];
  const counts: number[] = [];
  const keyStarts: number[] = [];
  const keyEnds: number[] = [];
  // Long keys are cut in a path.
  const pathTo = (depth: number) =>
    kinds
      .slice(0, depth)
      .map((kind, i) => (kind === BRACKET ? String(counts[i]) : buffer.toString('utf8', keyStarts[i], Math.min(keyEnds[i]!, keyStarts[i]! + 100))))
      .join('.');
  const broken = (depth: number, message: string, maximum: number) =>
    unprocessable('The request body breaks the rules of this endpoint.', [
      { path: pathTo(depth), message, code: 'too_many', params: { maximum } },
    ]);
  // Where the last string was: decoded only when it turns out to be a key.
  let lastStart = 0;
  let lastEnd = 0;
  for (let i = start; i < bytes.length; i++) {
    switch (bytes[i]) {
      case QUOTE: {
        // Strings are skipped natively: the next quote not escaped by an odd run of backslashes.
        const stringStart = i + 1;
        let end = buffer.indexOf(QUOTE, stringStart);
        while (end !== -1) {
          let slashes = 0;
          while (bytes[end - 1 - slashes] === BACKSLASH) slashes++;
          if (slashes % 2 === 0) break;
          end = buffer.indexOf(QUOTE, end + 1);
        }
        if (end === -1) return; // unterminated: JSON.parse says so
        lastStart = stringStart;
        lastEnd = end;
        i = end;
        break;
      }
      case BRACE:
      case BRACKET:
        if (kinds.length === bounds.depth) {
          throw unprocessable('The request body is nested too deeply.', [
            { path: pathTo(kinds.length), message: `nests more than ${bounds.depth} levels deep` },
          ]);
        }
        kinds.push(bytes[i]!);
        counts.push(0);
        keyStarts.push(0);
        keyEnds.push(0);
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        kinds.pop();
        counts.pop();
        keyStarts.pop();
        keyEnds.pop();
        break;
      case COLON: {
        const top = kinds.length - 1;
        if (kinds[top] !== BRACE) break;
        if (++counts[top]! > bounds.keys) throw broken(top, `has more than ${bounds.keys} keys`, bounds.keys);
        keyStarts[top] = lastStart;
        keyEnds[top] = lastEnd;
        break;
      }
      case COMMA: {
        const top = kinds.length - 1;
        if (kinds[top] === BRACKET && ++counts[top]! >= bounds.items) throw broken(top, `has more than ${bounds.items} items`, bounds.items);
        break;
      }
    }
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
