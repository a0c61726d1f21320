import type { Db } from '../lib/db/database.js';

export interface SessionRow {
  id_hash: string;
  token_id: string | null;
  admin_key: string | null;
  newsroom_id: string | null;
  last_seen_at: string;
  expires_at: string;
}

export async function insertSession(db: Db, row: SessionRow & { created_at: string }): Promise<void> {
  await db.insertInto('admin_sessions').values(row).execute();
}

/** The session, if it has not expired by `now`. */
export async function findLiveSession(db: Db, idHash: string, now: string): Promise<SessionRow | undefined> {
  return db
    .selectFrom('admin_sessions')
    .select(['id_hash', 'token_id', 'admin_key', 'newsroom_id', 'last_seen_at', 'expires_at'])
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export async function touchSession(db: Db, idHash: string, now: string, expiresAt: string): Promise<void> {
  await db.updateTable('admin_sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
}

export async function setSessionNewsroom(db: Db, idHash: string, newsroomId: string): Promise<void> {
  await db.updateTable('admin_sessions').set({ newsroom_id: newsroomId }).where('id_hash', '=', idHash).execute();
}

/** Ends a session; also drops every session that expired, so the table does not grow. */
export async function deleteSession(db: Db, idHash: string, now: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where((eb) => eb.or([eb('id_hash', '=', idHash), eb('expires_at', '<=', now)])).execute();
}

export async function setSessionFlash(db: Db, idHash: string, flash: string): Promise<void> {
  await db.updateTable('admin_sessions').set({ flash }).where('id_hash', '=', idHash).execute();
}

/** The session's flash if it starts with `prefix`, cleared in the same step: of two readers, one gets it. */
export async function takeSessionFlash(db: Db, idHash: string, prefix: string): Promise<string | undefined> {
  const row = await db.selectFrom('admin_sessions').select('flash').where('id_hash', '=', idHash).executeTakeFirst();
  const flash = row?.flash;
  if (!flash?.startsWith(prefix)) return undefined;
  const cleared = await db.updateTable('admin_sessions').set({ flash: null }).where('id_hash', '=', idHash).where('flash', '=', flash).executeTakeFirst();
  return Number(cleared.numUpdatedRows) > 0 ? flash : undefined;
}

/** The times of the address's latest failed sign-ins since `since`, newest first, at most `limit`. */
export async function recentSignInFailures(db: Db, addressHash: string, since: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('sign_in_failures')
    .select('failed_at')
    .where('address_hash', '=', addressHash)
    .where('failed_at', '>', since)
    .orderBy('failed_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.failed_at);
}

export async function insertSignInFailure(db: Db, addressHash: string, at: string): Promise<void> {
  await db.insertInto('sign_in_failures').values({ address_hash: addressHash, failed_at: at }).execute();
}

/** Failures that no longer count, of every address: the table holds one window's worth. */
export async function deleteSignInFailuresBefore(db: Db, before: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('failed_at', '<=', before).execute();
}

export async function deleteSignInFailures(db: Db, addressHash: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('address_hash', '=', addressHash).execute();
}
