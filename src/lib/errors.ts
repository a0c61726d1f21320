import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

/*
 * What went wrong, for two readers: the API answers in English (`message`, `detail`),
 * exactly as its clients know it; the staff app words the same error in its interface
 * language from a code (admin.fieldError.<code>, admin.problem.<code> in locales/).
 * Codes and their params stay inside the process: no API answer carries them.
 */

/** What a field error is about. Each has admin.fieldError.<code> in every interface language. */
export const fieldErrorCodes = [
  // zod's own issues (see codeOfIssue)
  'required',
  'too_short',
  'too_long',
  'too_few',
  'too_many',
  'too_small',
  'too_large',
  'not_a_choice',
  'bad_format',
  'not_a_multiple',
  'bad_key',
  'unknown_field',
  'not_valid',
  // the rules of our schemas and operations
  'language_code',
  'not_an_id',
  'time_format',
  'time_range',
  'http_url',
  'email',
  'phone',
  'slug_format',
  'slug_reserved',
  'timezone',
  'social_network',
  'social_handle',
  'language_repeated',
  'no_language',
  'foreign_language',
  'languages_required',
  'default_language_name',
  'language_in_use',
  'unknown_contact',
  'new_language_title',
  'not_in_future',
  'too_far_ahead',
  'far_too_long',
  'nul_characters',
  'one_line',
  'given_twice',
  'image_too_large',
  'image_too_costly',
  'too_complex',
  'https_url',
  'end_before_start',
  'place_or_link',
  'event_not_invitation',
  'before_publication',
  'unknown_journalist',
  'change_required',
  'change_not_published',
  'notify_not_scheduled',
  'note_missing',
  'not_release_language',
  'hex_colour',
  'low_contrast',
] as const;
export type FieldErrorCode = (typeof fieldErrorCodes)[number];

/** The values a coded text mentions (`{ maximum: 300 }`), named as in its catalogue strings. */
export type ErrorParams = Record<string, string | number>;

export interface FieldError {
  path: string;
  /** English, as the API gives it. */
  message: string;
  /** For the staff app's own wording; without one, it shows `message`. Never in an API answer. */
  code?: FieldErrorCode;
  params?: ErrorParams;
}

/**
 * Kinds of problem (the AppError's `code`, the `type` of the API's problem), and the
 * reasons for a refusal worth their own sentence. Each has admin.problem.<code>.
 */
export const problemCodes = [
  'bad-request',
  'unauthorized',
  'forbidden',
  'csrf',
  'not-found',
  'method-not-allowed',
  'conflict',
  'gone',
  'payload-too-large',
  'unsupported-media-type',
  'unprocessable',
  'client-error',
  'busy',
  'too-many-requests',
  'internal',
  // reasons
  'changed-meanwhile',
  'slug-taken',
  'release-withdrawn',
  'logo-format',
  'attachment-format',
  'image-undecodable',
  'already-notified',
  'not-notifiable',
] as const;
export type ProblemCode = (typeof problemCodes)[number];

/** A refusal's reason, for the staff app's wording of it (the API keeps the English detail). */
export interface ProblemReason {
  code: ProblemCode;
  params?: ErrorParams;
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
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The one error type: every failure a client should see is an AppError, rendered as RFC 9457. */
export class AppError extends Error {
  /** How many field errors there are: more than `errors` holds when only the first were built. */
  errorCount: number;

  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    detail: string,
    readonly errors: FieldError[] = [],
    readonly reason?: ProblemReason,
  ) {
    super(detail);
    this.errorCount = errors.length;
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
export const conflict = (detail: string, reason?: ProblemReason) => new AppError(409, 'conflict', detail, [], reason);
export const gone = (detail: string) => new AppError(410, 'gone', detail);
export const tooManyRequests = (detail: string) => new AppError(429, 'too-many-requests', detail);
export const payloadTooLarge = (detail: string) => new AppError(413, 'payload-too-large', detail);
export const unsupportedMediaType = (detail: string, reason?: ProblemReason) =>
  new AppError(415, 'unsupported-media-type', detail, [], reason);
export const unprocessable = (detail: string, errors?: FieldError[]) =>
  new AppError(422, 'unprocessable', detail, errors);

type Coded = Pick<FieldError, 'code' | 'params'>;

/** The schemas' own messages, by their text: zod keeps no code of ours on an issue (see `coded`). */
const codedMessages = new Map<string, Coded>();

/**
 * A schema's own English message (a refinement's, a regex's), registered with the code
 * the staff app words it by: `.refine(check, coded('slug_reserved', 'is reserved'))`.
 */
export function coded(code: FieldErrorCode, message: string, params?: ErrorParams): string {
  const known = codedMessages.get(message);
  if (known && known.code !== code) throw new Error(`"${message}" is coded both ${known.code} and ${code}`);
  codedMessages.set(message, { code, params });
  return message;
}

const isCount = (origin: string) => !['string', 'number', 'int', 'bigint'].includes(origin);

/** The code of a zod issue: a schema's own message's, else one for what zod checked. */
function codeOfIssue(issue: z.core.$ZodIssue): Coded {
  const own = codedMessages.get(issue.message);
  if (own) return own;
  switch (issue.code) {
    case 'too_small': {
      const minimum = Number(issue.minimum);
      if (issue.origin === 'string') return minimum <= 1 ? { code: 'required' } : { code: 'too_short', params: { minimum } };
      return { code: isCount(issue.origin) ? 'too_few' : 'too_small', params: { minimum } };
    }
    case 'too_big': {
      const maximum = Number(issue.maximum);
      if (issue.origin === 'string') return { code: 'too_long', params: { maximum } };
      return { code: isCount(issue.origin) ? 'too_many' : 'too_large', params: { maximum } };
    }
    case 'invalid_value':
      return { code: 'not_a_choice', params: { choices: issue.values.map(String).join(', ') } };
    case 'invalid_format':
      return { code: 'bad_format' };
    case 'not_multiple_of':
      return { code: 'not_a_multiple', params: { divisor: Number(issue.divisor) } };
    case 'invalid_key': {
      // The key's own rule says more (e.g. not a language code).
      const inner = issue.issues[0];
      return inner && codedMessages.get(inner.message) ? codeOfIssue(inner) : { code: 'bad_key' };
    }
    case 'custom':
      // A refinement whose message was not coded: the staff app shows its English.
      return {};
    default:
      // invalid_type, invalid_union, invalid_element
      return { code: 'not_valid' };
  }
}

/**
 * An answer lists at most this many field errors, and at most this many are built: a
 * body of a thousand bad keys gets no bigger answer and costs little more to refuse.
 */
export const MAX_LISTED_ERRORS = 50;

/**
 * The first `limit` problems of a zod error, as field errors. Paths are dotted
 * (`translations.fi.title`), the form staff tools show next to a field.
 */
export function fieldErrorsOf(error: z.ZodError, prefix?: string, limit = MAX_LISTED_ERRORS): FieldError[] {
  const dotted = (path: PropertyKey[]) => [prefix, ...path.map(String)].filter(Boolean).join('.');
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    if (errors.length >= limit) break;
    if (issue.code === 'unrecognized_keys') {
      // One error per unknown key, at that key, so that a client can point at each.
      for (const key of issue.keys.slice(0, limit - errors.length)) {
        errors.push({ path: dotted([...issue.path, key]), message: 'is not a field here', code: 'unknown_field' });
      }
    } else {
      errors.push({ path: dotted(issue.path), message: issue.message, ...codeOfIssue(issue) });
    }
  }
  return errors;
}

/** How many problems a zod error holds, each unknown key one (counted, not built). */
const problemCount = (error: z.ZodError) =>
  error.issues.reduce((count, issue) => count + (issue.code === 'unrecognized_keys' ? issue.keys.length : 1), 0);

/**
 * Input that breaks the schema. In a body, fields that break a rule are a 422 ("valid
 * JSON that breaks a rule"); a body that is not a JSON object at all is malformed, a 400.
 * Path and query parameters are part of the request line: a 400. `count`: how many
 * errors there are, when only the first of them are given.
 */
export function invalidInput(where: 'body' | 'query' | 'params', errors: FieldError[], malformed = false, count = errors.length): AppError {
  const detail = { body: 'The request body must be a JSON object.', query: 'The query parameters are not valid.', params: 'The path parameters are not valid.' };
  const error =
    where === 'body' && !malformed
      ? unprocessable('The request body breaks the rules of this endpoint.', errors)
      : badRequest(detail[where], errors);
  error.errorCount = count;
  return error;
}

export function invalidSchemaInput(error: z.ZodError, where: 'body' | 'query' | 'params'): AppError {
  const malformed = error.issues.some((issue) => issue.path.length === 0 && issue.code !== 'unrecognized_keys');
  return invalidInput(where, fieldErrorsOf(error, where === 'body' ? undefined : where), malformed, problemCount(error));
}

export function problemBody(error: AppError, instance?: string) {
  const listed = error.errors.slice(0, MAX_LISTED_ERRORS);
  const more = error.errorCount > listed.length;
  return {
    type: `urn:newsroom:problem:${error.code}`,
    title: error.title,
    status: error.status,
    detail: more ? `${error.message} The first ${listed.length} of ${error.errorCount} errors are listed.` : error.message,
    ...(instance ? { instance } : {}),
    // Path and message only: the codes are the staff app's, not part of the API.
    errors: listed.map(({ path, message }) => ({ path, message })),
  };
}

/** How long a client is asked to wait when the database or the file store is not answering. */
export const OUTAGE_RETRY_AFTER_S = 5;

/** Socket errors of a connection to the database, Redis or the file store's server. */
const connectionErrorCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
]);
/** node-postgres's own words for a connection that went away or could not be had in time. */
const lostConnection = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * Whether an error says a service this one depends on (the database, the file store)
 * is not answering, rather than that this request or our code is wrong: then the answer
 * is 503 with Retry-After, which a load balancer and a client know to retry.
 */
export function isOutage(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown; $metadata?: { httpStatusCode?: number }; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (connectionErrorCodes.has(code)) return true;
  // PostgreSQL: class 08 (connection exception), shutting down or starting (57P01-57P03), too many connections.
  if (/^08...$/.test(code) || /^57P0[123]$/.test(code) || code === '53300') return true;
  if (code === 'SQLITE_BUSY') return true;
  if (typeof e.message === 'string' && lostConnection.test(e.message)) return true;
  // A socket error another layer re-wrapped with only its words (the AWS SDK does, for errors of another realm).
  if (typeof e.message === 'string' && /\bconnect (ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/.test(e.message)) return true;
  // The AWS SDK: the object store answered 5xx (after the SDK's own retries) or timed out.
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500 || e.name === 'TimeoutError') return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isOutage(inner, depth + 1))) return true;
  return isOutage(e.cause, depth + 1);
}

/**
 * The AppError a client should see for an error, if any: ours, a schema's, a 4xx of
 * express, raw-body or busboy, or a 503 for a dependency that is not answering.
 */
export function asAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof z.ZodError) return invalidSchemaInput(err, 'body');
  if (isOutage(err)) {
    return new AppError(503, 'busy', 'The database or the file store is not answering right now; try again in a moment.');
  }
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: string };
  const status = Number(e.status ?? e.statusCode);
  if (status >= 400 && status < 500) {
    return new AppError(status, 'client-error', e.expose && e.message ? e.message : titles[status] ?? 'Bad request');
  }
  return undefined;
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = asAppError(err);
    const error = known ?? new AppError(500, 'internal', 'Something went wrong on our side. It has been logged.');
    if (!known) (req.log ?? logger).error({ err }, 'unhandled error');
    else if (isOutage(err)) (req.log ?? logger).error({ err }, 'a dependency is not answering');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error.status === 503) res.set('Retry-After', String(OUTAGE_RETRY_AFTER_S));
    res.status(error.status).type('application/problem+json').json(problemBody(error, req.originalUrl));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError(404, 'not-found', `No resource at ${req.method} ${req.path}.`));
};
