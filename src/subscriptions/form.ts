import type { Request } from 'express';
import { badRequest, payloadTooLarge, unsupportedMediaType } from '../lib/errors.js';

/*
 * The one reader of HTML form posts in subscriptions (the pages work without JavaScript).
 * Bounded: a form of these pages is a few hundred bytes.
 */
const FORM_LIMIT_BYTES = 16 * 1024;

export const isFormPost = (req: Request) => req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';

/** The body as URL-encoded fields; 415 for another type (unless `anyType`), 413 past the limit, 400 if not UTF-8. */
export async function readForm(req: Request, options: { anyType?: boolean } = {}): Promise<URLSearchParams> {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return new URLSearchParams();
  if (Number(req.headers['content-length'] ?? 0) > FORM_LIMIT_BYTES) throw payloadTooLarge('The form is too large.');
  const urlEncoded = isFormPost(req);
  if (!urlEncoded && !options.anyType) throw unsupportedMediaType('Send the form as application/x-www-form-urlencoded.');
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (urlEncoded && charset !== undefined && charset.toLowerCase() !== 'utf-8') throw unsupportedMediaType('Only UTF-8 forms are accepted.');

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT_BYTES) throw payloadTooLarge('The form is too large.');
    chunks.push(chunk);
  }
  if (!urlEncoded) return new URLSearchParams();
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw badRequest('The form is not valid UTF-8.');
  }
  return new URLSearchParams(text);
}

/** A comma-separated list field, trimmed, empty items dropped. */
export const listField = (value: string | null) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
