import { randomUUID } from 'node:crypto';
import type { Db } from '../lib/db/database.js';

/*
 * The outbox of what aggregators are told. A row is written in the same transaction as
 * the change it reports: the announcement claim ("published": the one claimed "became
 * public" event, so never before the publication time), an edit of a public release
 * ("corrected"), a withdrawal ("withdrawn"). WebSub content distribution and IndexNow
 * submissions are queued from these rows (src/aggregators/); a row is marked dispatched
 * once its jobs are in Redis, and queued again if Redis lost them.
 */

export type ReleaseEventKind = 'published' | 'corrected' | 'withdrawn';

export interface ReleaseEventRow {
  id: string;
  releaseId: string;
  kind: ReleaseEventKind;
  createdAt: string;
}

/** Writes one event per release; `db` is the transaction of the change it reports. */
export async function recordReleaseEvents(db: Db, releaseIds: readonly string[], kind: ReleaseEventKind, now: string): Promise<string[]> {
  if (!releaseIds.length) return [];
  const rows = releaseIds.map((releaseId) => ({ id: randomUUID(), release_id: releaseId, kind, created_at: now, dispatched_at: null }));
  await db.insertInto('release_events').values(rows).execute();
  return rows.map((r) => r.id);
}

const asEvent = (row: { id: string; release_id: string; kind: ReleaseEventKind; created_at: string }): ReleaseEventRow => ({
  id: row.id,
  releaseId: row.release_id,
  kind: row.kind,
  createdAt: row.created_at,
});

/** Events whose jobs are not queued yet (all, or those given), oldest first. */
export async function undispatchedEvents(db: Db, ids?: readonly string[], limit = 100): Promise<ReleaseEventRow[]> {
  let query = db.selectFrom('release_events').select(['id', 'release_id', 'kind', 'created_at']).where('dispatched_at', 'is', null);
  if (ids) {
    if (!ids.length) return [];
    query = query.where('id', 'in', ids);
  }
  return (await query.orderBy('created_at').orderBy('id').limit(limit).execute()).map(asEvent);
}

/** Events dispatched since `since`: their jobs are queued again when Redis may have lost them. */
export async function eventsDispatchedSince(db: Db, since: string): Promise<ReleaseEventRow[]> {
  const rows = await db
    .selectFrom('release_events')
    .select(['id', 'release_id', 'kind', 'created_at'])
    .where('dispatched_at', '>=', since)
    .orderBy('created_at')
    .execute();
  return rows.map(asEvent);
}

export async function findReleaseEvent(db: Db, id: string): Promise<ReleaseEventRow | undefined> {
  const row = await db.selectFrom('release_events').select(['id', 'release_id', 'kind', 'created_at']).where('id', '=', id).executeTakeFirst();
  return row && asEvent(row);
}

export async function markDispatched(db: Db, id: string, now: string): Promise<void> {
  await db.updateTable('release_events').set({ dispatched_at: now }).where('id', '=', id).where('dispatched_at', 'is', null).execute();
}
