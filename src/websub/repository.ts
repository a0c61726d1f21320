import { randomUUID } from 'node:crypto';
import type { Db } from '../lib/db/database.js';
import type { Topic } from './topics.js';

export type HubMode = 'subscribe' | 'unsubscribe';

export interface Intent {
  id: string;
  mode: HubMode;
  topic: string;
  callback: string;
  leaseSeconds: number;
  secret: string | null;
}

export interface Subscription {
  id: string;
  topic: string;
  callback: string;
  newsroomId: string | null;
  lang: string | null;
  keyword: string | null;
  secret: string | null;
  expiresAt: string;
  failures: number;
}

export async function insertIntent(db: Db, intent: Omit<Intent, 'id'>, now: string): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('websub_intents')
    .values({ id, mode: intent.mode, topic: intent.topic, callback: intent.callback, lease_seconds: intent.leaseSeconds, secret: intent.secret, created_at: now })
    .execute();
  return id;
}

export async function findIntent(db: Db, id: string): Promise<Intent | undefined> {
  const row = await db.selectFrom('websub_intents').selectAll().where('id', '=', id).executeTakeFirst();
  return row && { id: row.id, mode: row.mode, topic: row.topic, callback: row.callback, leaseSeconds: Number(row.lease_seconds), secret: row.secret };
}

export async function intentIds(db: Db): Promise<string[]> {
  return (await db.selectFrom('websub_intents').select('id').execute()).map((r) => r.id);
}

export async function deleteIntent(db: Db, id: string): Promise<void> {
  await db.deleteFrom('websub_intents').where('id', '=', id).execute();
}

/** A verified subscription: new, or the renewal of one (new lease and secret, failures forgotten). */
export async function saveSubscription(db: Db, topic: Topic, intent: Intent, now: Date): Promise<void> {
  const expiresAt = new Date(now.getTime() + intent.leaseSeconds * 1000).toISOString();
  await db
    .insertInto('websub_subscriptions')
    .values({
      id: randomUUID(),
      topic: topic.url,
      callback: intent.callback,
      newsroom_id: topic.newsroomId,
      lang: topic.address.newsroomSlug === undefined ? null : topic.address.lang,
      keyword: topic.address.newsroomSlug === undefined ? null : (topic.address.keyword ?? null),
      secret: intent.secret,
      lease_seconds: intent.leaseSeconds,
      expires_at: expiresAt,
      created_at: now.toISOString(),
      failures: 0,
    })
    .onConflict((oc) =>
      oc.columns(['topic', 'callback']).doUpdateSet({ secret: intent.secret, lease_seconds: intent.leaseSeconds, expires_at: expiresAt, failures: 0 }),
    )
    .execute();
}

export async function deleteSubscription(db: Db, topic: string, callback: string): Promise<void> {
  await db.deleteFrom('websub_subscriptions').where('topic', '=', topic).where('callback', '=', callback).execute();
}

const asSubscription = (row: {
  id: string; topic: string; callback: string; newsroom_id: string | null; lang: string | null; keyword: string | null;
  secret: string | null; expires_at: string; failures: number;
}): Subscription => ({
  id: row.id,
  topic: row.topic,
  callback: row.callback,
  newsroomId: row.newsroom_id,
  lang: row.lang,
  keyword: row.keyword,
  secret: row.secret,
  expiresAt: row.expires_at,
  failures: Number(row.failures),
});

export async function findSubscription(db: Db, id: string): Promise<Subscription | undefined> {
  const row = await db.selectFrom('websub_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && asSubscription(row);
}

/** Live subscriptions to every-newsroom feeds and to feeds of `newsroomId`; the caller narrows by language and keyword. */
export async function subscriptionsAround(db: Db, newsroomId: string, now: string): Promise<Subscription[]> {
  const rows = await db
    .selectFrom('websub_subscriptions')
    .selectAll()
    .where((eb) => eb.or([eb('newsroom_id', 'is', null), eb('newsroom_id', '=', newsroomId)]))
    .where('expires_at', '>', now)
    .execute();
  return rows.map(asSubscription);
}

export async function deleteExpiredSubscriptions(db: Db, now: string): Promise<number> {
  const result = await db.deleteFrom('websub_subscriptions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function distributionArrived(db: Db, id: string): Promise<void> {
  await db.updateTable('websub_subscriptions').set({ failures: 0 }).where('id', '=', id).where('failures', '>', 0).execute();
}

/** Counts a distribution that failed for good; a subscription at `limit` such failures in a row is deleted. */
export async function distributionFailed(db: Db, id: string, limit: number): Promise<boolean> {
  await db.updateTable('websub_subscriptions').set((eb) => ({ failures: eb('failures', '+', 1) })).where('id', '=', id).execute();
  const result = await db.deleteFrom('websub_subscriptions').where('id', '=', id).where('failures', '>=', limit).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function deleteSubscriptionById(db: Db, id: string): Promise<void> {
  await db.deleteFrom('websub_subscriptions').where('id', '=', id).execute();
}
