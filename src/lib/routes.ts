import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { forbidden, invalidInput, unauthorized, unsupportedMediaType } from './errors.js';

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

export interface RouteInput<P, Q, B, A extends Access> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  principal: A extends 'public' ? Principal | undefined : Principal;
  req: Request;
  res: Response;
}

export interface RouteDefinition<
  P extends Schema | undefined = Schema | undefined,
  Q extends Schema | undefined = Schema | undefined,
  B extends Schema | undefined = Schema | undefined,
  A extends Access = Access,
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
  responses: Record<number, { description: string; schema?: Schema; contentType?: string }>;
  /** Return a Reply to have it sent as JSON, or write to `res` and return nothing. */
  handle(input: RouteInput<P, Q, B, A>): Promise<Reply | void> | Reply | void;
}

/** Keeps the generic types of one route while letting a list hold routes of any shape. */
export function defineRoute<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  A extends Access = Access,
>(route: RouteDefinition<P, Q, B, A>): RouteDefinition {
  return route as unknown as RouteDefinition;
}

export type Authenticate = (req: Request) => Promise<Principal | undefined>;

/**
 * Mounts routes as: authenticate -> validate -> handler (which authorizes against the
 * resource, runs the command and presents the result).
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
      let body: unknown;
      if (route.body) {
        const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'];
        if (hasBody && !req.is('application/json')) {
          throw unsupportedMediaType('Send the body as application/json.');
        }
        body = parse(route.body, req.body ?? {}, 'body');
      }
      const reply = await route.handle({ params, query, body, principal, req, res } as never);
      if (!reply) return;
      if (reply.headers) res.set(reply.headers);
      if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).json(reply.body);
    });
  }
}

function parse(schema: Schema | undefined, value: unknown, where: 'body' | 'query' | 'params') {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(result.error, where);
  return result.data;
}
