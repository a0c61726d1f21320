import type { Request } from 'express';
import type { AppContext } from '../context.js';
import { unauthorized } from '../lib/errors.js';
import type { Authenticate, Principal } from '../lib/routes.js';
import { isoTime } from '../lib/time.js';
import { findActiveToken, touchToken } from './repository.js';
import { hashSecret, parseToken, sameHash } from './tokens.js';

/** last_used_at is informational: writing it at most once a minute keeps reads cheap. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Who a token is: the admin, a live newsroom token, or nobody (undefined). The one
 * check of a token, whether it comes in a bearer header or is typed into the staff
 * sign-in form.
 */
export function tokenChecker(ctx: AppContext): (token: string) => Promise<Principal | undefined> {
  const adminHash = hashSecret(ctx.config.adminToken);
  return async (token) => {
    if (sameHash(hashSecret(token), adminHash)) return { kind: 'admin' };
    const parsed = parseToken(token);
    const row = parsed && (await findActiveToken(ctx.db, parsed.id));
    if (!parsed || !row || !sameHash(hashSecret(parsed.secret), row.secret_hash)) return undefined;
    const now = ctx.clock.now();
    if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > TOUCH_INTERVAL_MS) {
      await touchToken(ctx.db, row.id, isoTime(now));
    }
    return { kind: 'newsroom', newsroomId: row.newsroom_id, tokenId: row.id };
  };
}

/**
 * Reads `Authorization: Bearer ...`. No header: no principal. A header that names no
 * live token: 401, even on public routes, so that a client learns its token is bad.
 */
export function bearerAuthenticator(ctx: AppContext): Authenticate {
  const check = tokenChecker(ctx);
  return async (req: Request): Promise<Principal | undefined> => {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header must read "Bearer <token>".');
    const principal = await check(match[1]!);
    if (!principal) throw unauthorized('The token is not valid or has been revoked.');
    return principal;
  };
}
