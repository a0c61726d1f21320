import type { Db } from '../lib/db/database.js';

export async function insertToken(
  db: Db,
  token: { id: string; newsroomId: string; name: string; secretHash: string; createdAt: string },
): Promise<void> {
  await db
    .insertInto('api_tokens')
    .values({
      id: token.id,
      newsroom_id: token.newsroomId,
      name: token.name,
      secret_hash: token.secretHash,
      created_at: token.createdAt,
    })
    .execute();
}

export async function findActiveToken(db: Db, id: string) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'newsroom_id', 'secret_hash', 'last_used_at'])
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function listTokens(db: Db, newsroomId: string) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'created_at', 'last_used_at', 'revoked_at'])
    .where('newsroom_id', '=', newsroomId)
    .orderBy('created_at')
    .execute();
}

/** Returns whether a live token was revoked. */
export async function revokeToken(db: Db, newsroomId: string, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('newsroom_id', '=', newsroomId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function touchToken(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}
