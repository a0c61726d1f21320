import { randomUUID } from 'node:crypto';
import type { Db } from '../lib/db/database.js';
import type { Outcome } from './parse.js';

/*
 * The bounces table and the delivery and subscriber changes a bounce makes. A bounce row
 * is written once per delivery and outcome (unique index): whoever inserts it makes the
 * change, so the same bounce read twice (two paths, a retried webhook) changes nothing more.
 */

export interface BouncedDelivery {
  id: string;
  subscriberId: string;
  status: string;
  /** The subscriber's address now; null when erased. */
  email: string | null;
}

const deliveryWithAddress = (db: Db) =>
  db
    .selectFrom('deliveries')
    .leftJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
    .select(['deliveries.id', 'deliveries.subscriber_id', 'deliveries.status', 'subscribers.email_key']);

const toDelivery = (row: { id: string; subscriber_id: string; status: string; email_key: string | null } | undefined): BouncedDelivery | undefined =>
  row && { id: row.id, subscriberId: row.subscriber_id, status: row.status, email: row.email_key };

export async function findDelivery(db: Db, id: string): Promise<BouncedDelivery | undefined> {
  return toDelivery(await deliveryWithAddress(db).where('deliveries.id', '=', id).executeTakeFirst());
}

export async function findDeliveryByMessageId(db: Db, messageId: string): Promise<BouncedDelivery | undefined> {
  return toDelivery(await deliveryWithAddress(db).where('deliveries.message_id', '=', messageId).executeTakeFirst());
}

export interface BounceRow {
  source: string;
  outcome: Outcome | 'unmatched' | 'unclassified';
  deliveryId?: string;
  subscriberId?: string;
  status?: string;
  reason?: string;
  subject?: string;
  sender?: string;
  message?: string;
}

/** Writes a bounce; false when this delivery already had one of this outcome. */
export async function insertBounce(db: Db, row: BounceRow, now: string): Promise<boolean> {
  const inserted = await db
    .insertInto('bounces')
    .values({
      id: randomUUID(),
      received_at: now,
      source: row.source,
      outcome: row.outcome,
      delivery_id: row.deliveryId ?? null,
      subscriber_id: row.subscriberId ?? null,
      status: row.status ?? null,
      reason: row.reason ?? null,
      subject: row.subject ?? null,
      sender: row.sender ?? null,
      message: row.message ?? null,
    })
    .onConflict((oc) => oc.columns(['delivery_id', 'outcome']).doNothing())
    .returning('id')
    .execute();
  return inserted.length > 0;
}

/** A delivery the relay accepted that came back for good (`bounced`) or as spam (`complained`). */
export async function markDeliveryReturned(db: Db, id: string, status: 'bounced' | 'complained', reason: string, now: string): Promise<void> {
  await db
    .updateTable('deliveries')
    .set({ status, bounce_reason: reason, bounced_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', 'in', status === 'bounced' ? ['sent'] : ['sent', 'bounced'])
    .execute();
}

/**
 * Whether the subscriber's transient bounces make a run: on `count` deliveries within the
 * window, the first at least `spanMs` before the last.
 */
export async function transientRun(db: Db, subscriberId: string, since: string, count: number, spanMs: number): Promise<boolean> {
  const rows = await db
    .selectFrom('bounces')
    .select('received_at')
    .where('subscriber_id', '=', subscriberId)
    .where('outcome', '=', 'transient')
    .where('received_at', '>=', since)
    .orderBy('received_at')
    .execute();
  if (rows.length < count) return false;
  const at = (value: unknown) => new Date(value as string).getTime();
  return at(rows.at(-1)!.received_at) - at(rows[0]!.received_at) >= spanMs;
}

/** Bounces of one release's deliveries by outcome (the delivery report). */
export async function countReleaseBounces(db: Db, releaseId: string): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('bounces')
    .innerJoin('deliveries', 'deliveries.id', 'bounces.delivery_id')
    .select((eb) => ['bounces.outcome', eb.fn.countAll<number>().as('count')])
    .where('deliveries.release_id', '=', releaseId)
    .groupBy('bounces.outcome')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.count)]));
}

export interface BounceListItem {
  id: string;
  receivedAt: string;
  source: string;
  outcome: BounceRow['outcome'];
  status: string | null;
  reason: string | null;
  subject: string | null;
  /** The subscriber's address now (null: erased, or no delivery named). */
  email: string | null;
  releaseId: string | null;
}

const bounceList = (db: Db) =>
  db
    .selectFrom('bounces')
    .leftJoin('deliveries', 'deliveries.id', 'bounces.delivery_id')
    .leftJoin('subscribers', 'subscribers.id', 'bounces.subscriber_id')
    .select([
      'bounces.id',
      'bounces.received_at',
      'bounces.source',
      'bounces.outcome',
      'bounces.status',
      'bounces.reason',
      'bounces.subject',
      'subscribers.email',
      'deliveries.release_id',
    ])
    .orderBy('bounces.received_at', 'desc')
    .orderBy('bounces.id');

const toListItem = (row: {
  id: string;
  received_at: unknown;
  source: string;
  outcome: string;
  status: string | null;
  reason: string | null;
  subject: string | null;
  email: string | null;
  release_id: string | null;
}): BounceListItem => ({
  id: row.id,
  receivedAt: new Date(row.received_at as string).toISOString(),
  source: row.source,
  outcome: row.outcome as BounceRow['outcome'],
  status: row.status,
  reason: row.reason,
  subject: row.subject,
  email: row.email,
  releaseId: row.release_id,
});

/** The latest bounces and complaints of one release's deliveries (the delivery report). */
export async function listReleaseBounces(db: Db, releaseId: string, limit: number): Promise<BounceListItem[]> {
  return (await bounceList(db).where('deliveries.release_id', '=', releaseId).limit(limit).execute()).map(toListItem);
}

/** One subscriber's bounces and complaints, latest first. */
export async function listSubscriberBounces(db: Db, subscriberId: string, limit: number): Promise<BounceListItem[]> {
  return (await bounceList(db).where('bounces.subscriber_id', '=', subscriberId).limit(limit).execute()).map(toListItem);
}

/** Bounces and complaints per subscriber, for a page of subscribers. */
export async function countSubscriberBounces(db: Db, subscriberIds: string[]): Promise<Map<string, number>> {
  if (!subscriberIds.length) return new Map();
  const rows = await db
    .selectFrom('bounces')
    .select((eb) => ['subscriber_id', eb.fn.countAll<number>().as('count')])
    .where('subscriber_id', 'in', subscriberIds)
    .groupBy('subscriber_id')
    .execute();
  return new Map(rows.map((r) => [r.subscriber_id!, Number(r.count)]));
}

export interface KeptBounce {
  id: string;
  receivedAt: string;
  source: string;
  outcome: 'unmatched' | 'unclassified';
  status: string | null;
  reason: string | null;
  subject: string | null;
  sender: string | null;
  /** The message as text (unclassified only), shortened; hostile: shown escaped, never rendered. */
  message: string | null;
}

/** What came back but names no delivery or could not be read, latest first, for staff to look at. */
export async function listKeptBounces(db: Db, page: { limit: number; offset: number }): Promise<{ items: KeptBounce[]; total: number }> {
  const kept = db.selectFrom('bounces').where('outcome', 'in', ['unmatched', 'unclassified']);
  const [rows, count] = await Promise.all([
    kept
      .select(['id', 'received_at', 'source', 'outcome', 'status', 'reason', 'subject', 'sender', 'message'])
      .orderBy('received_at', 'desc')
      .orderBy('id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    kept.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    total: Number(count.n),
    items: rows.map((row) => ({
      id: row.id,
      receivedAt: new Date(row.received_at as unknown as string).toISOString(),
      source: row.source,
      outcome: row.outcome as KeptBounce['outcome'],
      status: row.status,
      reason: row.reason,
      subject: row.subject,
      sender: row.sender,
      message: row.message,
    })),
  };
}
