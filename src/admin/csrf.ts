import type { Request } from 'express';
import type { AppContext } from '../context.js';
import { AppError } from '../lib/errors.js';
import { mac, sameText } from './session.js';

/*
 * Synchroniser tokens: every form carries a token tied to the (pre-)session it was
 * served to. It is a MAC of the session id, so it needs no storage of its own and
 * dies with the session. Form posts carry it in `_csrf`; scripts in X-CSRF-Token;
 * multipart uploads in the action's query string (the upload form takes no extra field).
 */

export const CSRF_FIELD = '_csrf';

export const csrfToken = (ctx: AppContext, sessionId: string) => mac(ctx, 'csrf', sessionId);

export function checkCsrf(ctx: AppContext, req: Request, sessionId: string, fromBody: string | null | undefined): void {
  const header = req.headers['x-csrf-token'];
  const query = req.query[CSRF_FIELD];
  const given = fromBody ?? (typeof header === 'string' ? header : typeof query === 'string' ? query : undefined);
  if (!given || !sameText(given, csrfToken(ctx, sessionId))) {
    throw new AppError(403, 'csrf', 'The form has expired or did not come from this site; load the page again.');
  }
}
