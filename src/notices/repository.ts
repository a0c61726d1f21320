import { sql } from 'kysely';
import type { Db } from '../lib/db/database.js';
import { recipientsById } from '../delivery/repository.js';

/*
 * Correction notices: who is told of a correction or withdrawal, and whether they were.
 * As with deliveries, every state change is one UPDATE whose WHERE names the state it
 * leaves, so that of two processes only one makes it.
 */

/**
 * Claims the notice of a correction (once: the update only one request can win) and
 * writes one queued notice per delivery of its release that was sent, in that delivery's
 * language, in one transaction. Returns the delivery ids written, or undefined when the
 * correction was claimed before.
 */
export async function claimNotice(db: Db, correctionId: string, releaseId: string, now: string): Promise<string[] | undefined> {
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('release_corrections')
      .set({ notice_claimed_at: now })
      .where('id', '=', correctionId)
      .where('notice_claimed_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return undefined;
    await trx
      .insertInto('correction_notices')
      .columns(['correction_id', 'delivery_id', 'release_id', 'subscriber_id', 'language', 'status', 'created_at', 'updated_at'])
      .expression(
        trx
          .selectFrom('deliveries')
          .select((eb) => [
            eb.val(correctionId).as('correction_id'),
            'id',
            'release_id',
            'subscriber_id',
            eb.fn.coalesce('language', eb.val('')).as('language'),
            eb.val('queued').as('status'),
            eb.val(now).as('created_at'),
            eb.val(now).as('updated_at'),
          ])
          .where('release_id', '=', releaseId)
          .where('status', '=', 'sent'),
      )
      .execute();
    const rows = await trx.selectFrom('correction_notices').select('delivery_id').where('correction_id', '=', correctionId).orderBy('delivery_id').execute();
    return rows.map((r) => r.delivery_id);
  });
}

export interface ClaimedNotice {
  deliveryId: string;
  subscriberId: string;
  language: string;
  attempts: number;
  email: string;
  subscriberStatus: string;
  journalist: boolean;
}

/** Claims the given notices of a correction that are still queued (queued -> sending). */
export async function claimNotices(db: Db, correctionId: string, deliveryIds: string[], owner: string, now: string): Promise<ClaimedNotice[]> {
  if (!deliveryIds.length) return [];
  const claimed = await db
    .updateTable('correction_notices')
    .set((eb) => ({ status: 'sending', claimed_at: now, claimed_by: owner, attempts: eb('attempts', '+', 1), updated_at: now }))
    .where('correction_id', '=', correctionId)
    .where('delivery_id', 'in', deliveryIds)
    .where('status', '=', 'queued')
    .returning(['delivery_id', 'subscriber_id', 'language', 'attempts'])
    .execute();
  if (!claimed.length) return [];
  const byId = await recipientsById(db, claimed.map((c) => c.subscriber_id));
  return claimed.map((c) => ({
    deliveryId: c.delivery_id,
    subscriberId: c.subscriber_id,
    language: c.language,
    attempts: Number(c.attempts),
    email: byId.get(c.subscriber_id)?.email ?? '',
    subscriberStatus: byId.get(c.subscriber_id)?.status ?? 'erased',
    journalist: byId.get(c.subscriber_id)?.journalist ?? false,
  }));
}

type Outcome =
  | { status: 'sent'; response: string; messageId: string }
  | { status: 'failed'; response: string }
  | { status: 'queued'; response: string }
  | { status: 'skipped' };

/** Records what became of a claimed notice (or, `skipped`, of a queued one that may not go). */
export async function settleNotice(db: Db, correctionId: string, deliveryId: string, outcome: Outcome, now: string): Promise<void> {
  await db
    .updateTable('correction_notices')
    .set({
      status: outcome.status,
      claimed_at: null,
      claimed_by: null,
      updated_at: now,
      ...(outcome.status === 'sent' ? { sent_at: now, message_id: outcome.messageId } : {}),
      ...('response' in outcome ? { smtp_response: outcome.response } : {}),
    })
    .where('correction_id', '=', correctionId)
    .where('delivery_id', '=', deliveryId)
    // A sent one may have been taken for dead meanwhile: it was sent all the same.
    .where('status', 'in', ['sending', 'queued'])
    .execute();
}

/** Claims older than `staleBefore` belong to a dead worker: queued again. */
export async function releaseStaleNoticeClaims(db: Db, staleBefore: string, now: string): Promise<number> {
  const result = await db
    .updateTable('correction_notices')
    .set({ status: 'queued', claimed_at: null, claimed_by: null, updated_at: now })
    .where('status', '=', 'sending')
    .where('claimed_at', '<', staleBefore)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Queued notices (all, or those untouched since `idleSince`), by correction, for their jobs again. */
export async function queuedNotices(db: Db, idleSince?: string): Promise<{ correctionId: string; releaseId: string; deliveryId: string }[]> {
  let query = db.selectFrom('correction_notices').select(['correction_id', 'release_id', 'delivery_id']).where('status', '=', 'queued');
  if (idleSince) query = query.where('updated_at', '<', idleSince);
  const rows = await query.orderBy('correction_id').orderBy('delivery_id').limit(100_000).execute();
  return rows.map((r) => ({ correctionId: r.correction_id, releaseId: r.release_id, deliveryId: r.delivery_id }));
}

/** The changes of a release whose recipients were notified, in order, with when it was asked. */
export async function notifiedCorrections(db: Db, releaseId: string): Promise<{ id: string; kind: string; claimedAt: string }[]> {
  const rows = await db
    .selectFrom('release_corrections')
    .select(['id', 'kind', 'notice_claimed_at'])
    .where('release_id', '=', releaseId)
    .where('notice_claimed_at', 'is not', null)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, claimedAt: r.notice_claimed_at! }));
}

/** A release's notices: counts by correction and state. */
export async function noticeCounts(db: Db, releaseId: string): Promise<{ correctionId: string; status: string; count: number }[]> {
  const rows = await db
    .selectFrom('correction_notices')
    .select(['correction_id', 'status', sql<number>`count(*)`.as('count')])
    .where('release_id', '=', releaseId)
    .groupBy(['correction_id', 'status'])
    .execute();
  return rows.map((r) => ({ correctionId: r.correction_id, status: r.status, count: Number(r.count) }));
}
