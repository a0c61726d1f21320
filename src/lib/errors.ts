import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

export interface FieldError {
  path: string;
  message: string;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The one error type: every failure a client should see is an AppError, rendered as RFC 9457. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
  }

  get title(): string {
    return titles[this.status] ?? 'Error';
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new AppError(400, 'bad-request', detail, errors);
export const unauthorized = (detail = 'A valid bearer token is required.') =>
  new AppError(401, 'unauthorized', detail);
export const forbidden = (detail = 'This token may not act on this newsroom.') =>
  new AppError(403, 'forbidden', detail);
export const notFound = (what: string) => new AppError(404, 'not-found', `${what} not found.`);
export const conflict = (detail: string) => new AppError(409, 'conflict', detail);
export const gone = (detail: string) => new AppError(410, 'gone', detail);
export const payloadTooLarge = (detail: string) => new AppError(413, 'payload-too-large', detail);
export const unsupportedMediaType = (detail: string) =>
  new AppError(415, 'unsupported-media-type', detail);
export const unprocessable = (detail: string, errors?: FieldError[]) =>
  new AppError(422, 'unprocessable', detail, errors);

/** Paths are dotted (`translations.fi.title`), the form staff tools show next to a field. */
export function fieldErrorsOf(error: z.ZodError, prefix?: string): FieldError[] {
  const dotted = (path: PropertyKey[]) => [prefix, ...path.map(String)].filter(Boolean).join('.');
  return error.issues.flatMap((issue) =>
    // One error per unknown key, at that key, so that a client can point at each.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: dotted([...issue.path, key]), message: 'is not a field here' }))
      : [{ path: dotted(issue.path), message: issue.message }],
  );
}

/**
 * Input that breaks the schema. In a body, fields that break a rule are a 422 ("valid
 * JSON that breaks a rule"); a body that is not a JSON object at all is malformed, a 400.
 * Path and query parameters are part of the request line: a 400.
 */
export function invalidInput(where: 'body' | 'query' | 'params', errors: FieldError[], malformed = false): AppError {
  if (where === 'body' && !malformed) return unprocessable('The request body breaks the rules of this endpoint.', errors);
  const detail = { body: 'The request body must be a JSON object.', query: 'The query parameters are not valid.', params: 'The path parameters are not valid.' };
  return badRequest(detail[where], errors);
}

export function invalidSchemaInput(error: z.ZodError, where: 'body' | 'query' | 'params'): AppError {
  const malformed = error.issues.some((issue) => issue.path.length === 0 && issue.code !== 'unrecognized_keys');
  return invalidInput(where, fieldErrorsOf(error, where === 'body' ? undefined : where), malformed);
}

/** An answer lists at most this many field errors: a body of a million bad keys must not get a bigger answer. */
export const MAX_LISTED_ERRORS = 50;

export function problemBody(error: AppError, instance?: string) {
  const more = error.errors.length - MAX_LISTED_ERRORS;
  return {
    type: `urn:newsroom:problem:${error.code}`,
    title: error.title,
    status: error.status,
    detail: more > 0 ? `${error.message} The first ${MAX_LISTED_ERRORS} of ${error.errors.length} errors are listed.` : error.message,
    ...(instance ? { instance } : {}),
    errors: more > 0 ? error.errors.slice(0, MAX_LISTED_ERRORS) : error.errors,
  };
}

/** Translates errors thrown by express, body parsers and busboy into AppErrors. */
function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof z.ZodError) return invalidSchemaInput(err, 'body');
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown; message?: string };
  const status = Number(e.status ?? e.statusCode);
  switch (e.type) {
    case 'entity.parse.failed':
      return badRequest('The request body is not valid JSON.');
    case 'encoding.invalid':
      return badRequest('The request body is not valid UTF-8.');
    case 'entity.too.large':
      return payloadTooLarge('The request body is too large.');
    case 'encoding.unsupported':
      if ('encoding' in e) return unsupportedMediaType('Compressed request bodies are not accepted: send it without Content-Encoding.');
      return unsupportedMediaType('Only UTF-8 is accepted.');
    case 'charset.unsupported':
      return unsupportedMediaType('Only UTF-8 JSON is accepted.');
  }
  if (status >= 400 && status < 500) {
    return new AppError(status, 'client-error', e.expose && e.message ? e.message : titles[status] ?? 'Bad request');
  }
  return undefined;
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = toAppError(err);
    const error = known ?? new AppError(500, 'internal', 'Something went wrong on our side. It has been logged.');
    if (!known) (req.log ?? logger).error({ err }, 'unhandled error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(error.status).type('application/problem+json').json(problemBody(error, req.originalUrl));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError(404, 'not-found', `No resource at ${req.method} ${req.path}.`));
};
