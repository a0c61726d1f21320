import type { Request } from 'express';
import type { AppContext } from '../context.js';
import { AppError } from '../lib/errors.js';
import { mac, sameText } from './session.js';

/*
 * Synchroniser tokens: every form carries a token tied to the (pre-)session it was
 * served to. It is a MAC of the session id, so it needs no storage of its own and
 * dies with the session. Forms carry it in the field `_csrf` (multipart uploads as
 * their first field, read before the file), scripts in X-CSRF-Token; never in the
 * URL, where address bars, histories and request logs would keep it.
 */

export const CSRF_FIELD = '_csrf';

export const csrfToken = (ctx: AppContext, sessionId: string) => mac(ctx, 'csrf', sessionId);

export function checkCsrf(ctx: AppContext, req: Request, sessionId: string, fromBody: string | null | undefined): void {
  const header = req.headers['x-csrf-token'];
  const given = fromBody ?? (typeof header === 'string' ? header : undefined);
  if (!given || !sameText(given, csrfToken(ctx, sessionId))) {
    throw new AppError(403, 'csrf', 'The form has expired or did not come from this site; load the page again.');
  }
}

/**
 * The check of a multipart upload, for receiveForm's `beforeFile`: the token must come
 * before the file (so nothing of a forged upload is stored); it is taken out of the
 * fields, which the operations check for unknown names.
 */
export const checkUploadCsrf =
  (ctx: AppContext, req: Request, sessionId: string) =>
  (fields: Map<string, string>): void => {
    const given = fields.get(CSRF_FIELD);
    fields.delete(CSRF_FIELD);
    checkCsrf(ctx, req, sessionId, given);
  };
