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
 * Reads `Authorization: Bearer ...`. No header: no principal. A header that names no
 * live token: 401, even on public routes, so that a client learns its token is bad.
 */
export function bearerAuthenticator(ctx: AppContext): Authenticate {
  const adminHash = hashSecret(ctx.config.adminToken);

  return async (req: Request): Promise<Principal | undefined> => {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header must read "Bearer <token>".');
    const token = match[1]!;

    if (sameHash(hashSecret(token), adminHash)) return { kind: 'admin' };

    const parsed = parseToken(token);
    const row = parsed && (await findActiveToken(ctx.db, parsed.id));
    if (!parsed || !row || !sameHash(hashSecret(parsed.secret), row.secret_hash)) {
      throw unauthorized('The token is not valid or has been revoked.');
    }
    const now = ctx.clock.now();
    if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > TOUCH_INTERVAL_MS) {
      await touchToken(ctx.db, row.id, isoTime(now));
    }
    return { kind: 'newsroom', newsroomId: row.newsroom_id, tokenId: row.id };
  };
}
