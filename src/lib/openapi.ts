import { z } from 'zod';
import type { RouteDefinition } from './routes.js';

/** The problem+json shape every error answer has (RFC 9457). */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
});

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

function parametersOf(schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const shape = jsonSchema(schema, 'input') as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(shape.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (shape.required ?? []).includes(name),
    schema: property,
  }));
}

const errorMeanings: Record<number, string> = {
  400: 'Malformed request: bad path or query parameters, or a body that is not a JSON object',
  401: 'A token is required, or the one sent is not valid',
  403: 'The token may not act here',
  404: 'Unknown resource',
  409: 'Conflict with the current state',
  410: 'Withdrawn',
  413: 'Body too large',
  415: 'Unsupported media type, charset or content encoding',
  422: 'A field breaks a rule; each bad field is in errors',
  503: 'Busy; try again shortly',
};

/** The error statuses a route can answer with, from its shape and its own `errors`. */
function errorStatuses(route: RouteDefinition): number[] {
  const statuses = new Set<number>([401, ...(route.errors ?? [])]);
  if (route.params || route.query) statuses.add(400);
  if (route.access !== 'public') statuses.add(403);
  if (route.path.includes(':')) statuses.add(404);
  if (route.body || route.form || route.multipart) for (const status of [400, 413, 415, 422]) statuses.add(status);
  return [...statuses].sort();
}

/** `get /api/newsrooms/:slug/releases` -> `getNewsroomsBySlugReleases`. */
function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment && segment !== 'api')
    .flatMap((segment) => (segment.startsWith(':') ? ['by', segment.slice(1)] : segment.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** OpenAPI 3.1, generated from the very schemas the routes validate with. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[], serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    const problem = { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    for (const [status, response] of Object.entries(route.responses)) {
      const isError = Number(status) >= 400;
      responses[status] = {
        description: response.description,
        // Every error answer is problem+json, whatever the route says of it.
        ...(isError
          ? problem
          : response.schema
            ? { content: { [response.contentType ?? 'application/json']: { schema: jsonSchema(response.schema, 'output') } } }
            : {}),
      };
    }
    for (const status of errorStatuses(route)) {
      responses[status] ??= { description: errorMeanings[status] ?? 'Error', ...problem };
    }
    responses.default = { description: 'Unexpected error', ...problem };
    const requestBody = route.body
      ? {
          required: true,
          content: {
            'application/json': { schema: jsonSchema(route.body, 'input') },
            ...(route.form ? { 'application/x-www-form-urlencoded': { schema: jsonSchema(route.form, 'input') } } : {}),
          },
        }
      : route.form
        ? { required: true, content: { 'application/x-www-form-urlencoded': { schema: jsonSchema(route.form, 'input') } } }
        : route.multipart
          ? { required: true, content: { 'multipart/form-data': { schema: jsonSchema(route.multipart, 'input') } } }
          : undefined;
    (paths[path] ??= {})[route.method] = {
      operationId: route.operationId ?? operationIdOf(route.method, route.path),
      summary: route.summary,
      tags: [route.tag],
      // Public operations take a token too (staff then see more), but need none.
      security: route.access === 'public' ? [] : [{ bearer: [] }],
      parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Newsroom API',
      version: '1',
      description:
        'Press releases in several languages, with contacts and attachments, scheduled under embargo; ' +
        'published releases can be read without a token.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
    },
    paths,
  };
}
