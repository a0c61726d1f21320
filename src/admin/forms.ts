import { isUtf8 } from 'node:buffer';
import type { Request } from 'express';
import { payloadTooLarge, unsupportedMediaType, badRequest } from '../lib/errors.js';

/** Enough for a release in a dozen languages at the largest body the schemas take. */
export const FORM_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Reads an application/x-www-form-urlencoded body, at most `limit` bytes (413 past
 * it), as UTF-8 (400 otherwise). The one form reader of the staff app.
 */
export async function readForm(req: Request, limit = FORM_MAX_BYTES): Promise<URLSearchParams> {
  if (!req.is('application/x-www-form-urlencoded')) throw unsupportedMediaType('Send the form as application/x-www-form-urlencoded.');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw payloadTooLarge('The form is too large.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw payloadTooLarge('The form is too large.');
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  if (!isUtf8(bytes)) throw badRequest('The form is not valid UTF-8.');
  const form = new URLSearchParams(bytes.toString('utf8'));
  for (const [, value] of form) if (value.includes('\u0000')) throw badRequest('The form must not contain NUL characters.');
  return form;
}
