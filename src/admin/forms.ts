import type { Request } from 'express';
import type { z } from 'zod';
import { AppError, invalidSchemaInput } from '../lib/errors.js';
import { readForm as readFormBody } from '../lib/forms.js';

/** Enough for a release in a dozen languages at the largest body the schemas take. */
export const FORM_MAX_BYTES = 8 * 1024 * 1024;

/** A form of the staff app (see lib/forms.ts). */
export const readForm = (req: Request, limit = FORM_MAX_BYTES) => readFormBody(req, { limit });

/** Input checked by the endpoint's own schema: a 422 with field errors, as the API gives. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidSchemaInput(result.error, 'body');
  return result.data;
}

/** Runs an operation; a refusal the form can show (422, 409) comes back instead of being thrown. */
export async function attempt<T>(run: () => Promise<T>): Promise<{ value: T; error?: undefined } | { value?: undefined; error: AppError }> {
  try {
    return { value: await run() };
  } catch (error) {
    if (error instanceof AppError && (error.status === 422 || error.status === 409)) return { error };
    throw error;
  }
}

export const text = (form: URLSearchParams, name: string) => (form.get(name) ?? '').trim();
export const orNull = (value: string) => (value === '' ? null : value);
export const list = (value: string) => value.split(',').map((k) => k.trim()).filter(Boolean);
