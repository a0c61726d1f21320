import { isUtf8 } from 'node:buffer';
import type { Request } from 'express';
import { readBody } from './bodies.js';
import { badRequest, payloadTooLarge, unsupportedMediaType } from './errors.js';

/*
 * The one reader of HTML form posts for pages that work without JavaScript (the staff
 * app, the subscription pages). Bounded by the caller's limit, UTF-8 only.
 */

export const isFormPost = (req: Request) => req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';

/**
 * The body as URL-encoded fields: 413 past `limit` bytes (see lib/bodies.ts), 400 when not UTF-8 or holding
 * NUL, 415 for another type (with `anyType`, another type is read and dropped: e.g.
 * the RFC 8058 one-click POST, whose URL alone authorises it).
 */
export async function readForm(req: Request, options: { limit: number; anyType?: boolean }): Promise<URLSearchParams> {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return new URLSearchParams();
  const urlEncoded = isFormPost(req);
  if (!urlEncoded && !options.anyType) throw unsupportedMediaType('Send the form as application/x-www-form-urlencoded.');
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (urlEncoded && charset !== undefined && charset.toLowerCase() !== 'utf-8') throw unsupportedMediaType('Only UTF-8 forms are accepted.');
  const bytes = await readBody(req, options.limit, () => payloadTooLarge(`The form is larger than the limit of ${options.limit} bytes.`));
  if (!urlEncoded) return new URLSearchParams();
  if (!isUtf8(bytes)) throw badRequest('The form is not valid UTF-8.');
  const form = new URLSearchParams(bytes.toString('utf8'));
  for (const [, value] of form) if (value.includes('\u0000')) throw badRequest('The form must not contain NUL characters.');
  return form;
}
