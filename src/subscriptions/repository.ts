import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../lib/db/database.js';
import type { ConfirmationSource, Database, SubscriberRow, SubscriptionConfirmationRow } from '../lib/db/schema.js';

type Executor = Db | Transaction<Database>;

export type SubscriberStatus = 'pending' | 'confirmed' | 'unsubscribed';

export interface Subscriber {
  id: string;
  newsroomId: string;
  email: string;
  status: SubscriberStatus;
  languages: string[];
  keywords: string[];
  consentAt: string | null;
  consentIp: string | null;
  consentUserAgent: string | null;
  consentText: string | null;
  consentSource: string | null;
  hardBounces: number;
  createdAt: string;
  updatedAt: string;
  confirmedAt: string | null;
  unsubscribedAt: string | null;
}

export interface Consent {
  at: string;
  ip: string | null;
  userAgent: string | null;
  text: string | null;
  source: string;
}

export const emailKey = (email: string) => email.trim().toLowerCase();

/** The keyword rows: lower-cased, once each. */
export const keywordKeys = (keywords: readonly string[]) => [...new Set(keywords.map((k) => k.toLowerCase()))];

export const toSubscriber = (row: SubscriberRow): Subscriber => ({
  id: row.id,
  newsroomId: row.newsroom_id,
  email: row.email,
  status: row.status as SubscriberStatus,
  languages: JSON.parse(row.languages),
  keywords: JSON.parse(row.keywords),
  consentAt: row.consent_at,
  consentIp: row.consent_ip,
  consentUserAgent: row.consent_user_agent,
  consentText: row.consent_text,
  consentSource: row.consent_source,
  hardBounces: row.hard_bounces,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  confirmedAt: row.confirmed_at,
  unsubscribedAt: row.unsubscribed_at,
});

export async function findSubscriber(db: Executor, id: string): Promise<Subscriber | undefined> {
  const row = await db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toSubscriber(row);
}

export async function findSubscribersByEmail(db: Executor, email: string): Promise<Subscriber[]> {
  const rows = await db.selectFrom('subscribers').selectAll().where('email_key', '=', emailKey(email)).orderBy('created_at').execute();
  return rows.map(toSubscriber);
}

/** The newsroom's row for this address, made `pending` if there was none. */
export async function ensureSubscriber(
  db: Executor,
  newsroomId: string,
  email: string,
  wishes: { languages: string[]; keywords: string[] },
  now: string,
): Promise<Subscriber> {
  await db
    .insertInto('subscribers')
    .values({
      id: randomUUID(),
      newsroom_id: newsroomId,
      email,
      email_key: emailKey(email),
      languages: JSON.stringify(wishes.languages),
      keywords: JSON.stringify(wishes.keywords),
      status: 'pending',
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['newsroom_id', 'email_key']).doNothing())
    .execute();
  const row = await db
    .selectFrom('subscribers')
    .selectAll()
    .where('newsroom_id', '=', newsroomId)
    .where('email_key', '=', emailKey(email))
    .executeTakeFirstOrThrow();
  return toSubscriber(row);
}

/**
 * Takes the per-address rate limit: true for the one request that may send a
 * confirmation email now (the update is conditional, so concurrent requests cannot both win).
 */
export async function takeAddressSlot(db: Executor, subscriberId: string, now: string, notBefore: string): Promise<boolean> {
  const result = await db
    .updateTable('subscribers')
    .set({ confirmation_requested_at: now })
    .where('id', '=', subscriberId)
    .where((eb) => eb.or([eb('confirmation_requested_at', 'is', null), eb('confirmation_requested_at', '<=', notBefore)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Locks the newsroom's invitation budget until the transaction ends, so that one upload
 * at a time spends it (a write first: PostgreSQL locks the row, SQLite takes its write
 * lock), and gives the newsroom's own number a day, if the admin set one.
 */
export async function lockInvitationBudget(db: Executor, newsroomId: string): Promise<number | null> {
  const row = await db
    .insertInto('invitation_budgets')
    .values({ newsroom_id: newsroomId, per_day: null })
    .onConflict((oc) => oc.column('newsroom_id').doUpdateSet((eb) => ({ newsroom_id: eb.ref('excluded.newsroom_id') })))
    .returning('per_day')
    .executeTakeFirstOrThrow();
  return row.per_day;
}

export async function findInvitationBudget(db: Executor, newsroomId: string): Promise<number | null> {
  const row = await db.selectFrom('invitation_budgets').select('per_day').where('newsroom_id', '=', newsroomId).executeTakeFirst();
  return row?.per_day ?? null;
}

export async function setInvitationBudget(db: Executor, newsroomId: string, perDay: number | null): Promise<void> {
  await db
    .insertInto('invitation_budgets')
    .values({ newsroom_id: newsroomId, per_day: perDay })
    .onConflict((oc) => oc.column('newsroom_id').doUpdateSet({ per_day: perDay }))
    .execute();
}

/** The newsroom's invitations since `since`, and the time of the oldest of them. */
export async function invitationsSince(db: Executor, newsroomId: string, since: string): Promise<{ count: number; oldest: string | null }> {
  const row = await db
    .selectFrom('invited_addresses')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('asked_at').as('oldest')])
    .where('newsroom_id', '=', newsroomId)
    .where('asked_at', '>', since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), oldest: row.oldest === null ? null : String(row.oldest) };
}

/**
 * Of these addresses, the email keys of those asked to confirm since `since` by anyone:
 * invited by any newsroom (even if the subscriber row has gone since), or asked through
 * any newsroom's public form.
 */
export async function addressesAskedSince(
  db: Executor,
  addresses: readonly { emailKey: string; hash: string }[],
  since: string,
): Promise<Set<string>> {
  if (addresses.length === 0) return new Set();
  const keyOfHash = new Map(addresses.map((a) => [a.hash, a.emailKey]));
  const [invited, asked] = await Promise.all([
    db.selectFrom('invited_addresses').select('address_hash').where('address_hash', 'in', [...keyOfHash.keys()]).where('asked_at', '>', since).execute(),
    db
      .selectFrom('subscribers')
      .select('email_key')
      .distinct()
      .where('email_key', 'in', addresses.map((a) => a.emailKey))
      .where('confirmation_requested_at', '>', since)
      .execute(),
  ]);
  return new Set([...invited.map((row) => keyOfHash.get(row.address_hash)!), ...asked.map((row) => row.email_key)]);
}

/**
 * Takes the invitation window of an address for a newsroom: true for the one request
 * that may invite it now (nobody invited it after `notBefore`); a conditional upsert, so
 * that two newsrooms inviting it at once cannot both win.
 */
export async function takeInvitationSlot(
  db: Executor,
  slot: { addressHash: string; newsroomId: string; now: string; notBefore: string },
): Promise<boolean> {
  const result = await db
    .insertInto('invited_addresses')
    .values({ address_hash: slot.addressHash, newsroom_id: slot.newsroomId, asked_at: slot.now })
    .onConflict((oc) =>
      oc
        .column('address_hash')
        .doUpdateSet((eb) => ({ newsroom_id: eb.ref('excluded.newsroom_id'), asked_at: eb.ref('excluded.asked_at') }))
        .where('invited_addresses.asked_at', '<=', slot.notBefore),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows) === 1;
}

/** Invitation windows that have passed: nothing to hold on to. */
export async function deleteInvitationsBefore(db: Executor, before: string): Promise<number> {
  const result = await db.deleteFrom('invited_addresses').where('asked_at', '<=', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function confirmationsFromIp(db: Executor, ipHash: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('subscription_confirmations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('ip_hash', '=', ipHash)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertConfirmation(
  db: Executor,
  c: { subscriberId: string; lang: string; languages: string[]; keywords: string[]; ipHash: string; source: ConfirmationSource; now: string },
): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('subscription_confirmations')
    .values({
      id,
      subscriber_id: c.subscriberId,
      lang: c.lang,
      languages: JSON.stringify(c.languages),
      keywords: JSON.stringify(c.keywords),
      ip_hash: c.ipHash,
      source: c.source,
      created_at: c.now,
    })
    .execute();
  return id;
}

/** The address's latest confirmation request: the one that holds its per-address slot. */
export async function latestConfirmationId(db: Executor, subscriberId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('subscription_confirmations')
    .select('id')
    .where('subscriber_id', '=', subscriberId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

export async function findConfirmation(db: Executor, id: string): Promise<SubscriptionConfirmationRow | undefined> {
  return db.selectFrom('subscription_confirmations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findConfirmationByToken(db: Executor, tokenHash: string): Promise<SubscriptionConfirmationRow | undefined> {
  return db.selectFrom('subscription_confirmations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/**
 * Claims an unsent confirmation for sending and gives it its token hash: only one worker
 * wins. A claim older than `staleBefore` belonged to a worker that died, and may be taken over.
 */
export async function claimConfirmation(
  db: Executor,
  id: string,
  claim: { tokenHash: string; now: string; expiresAt: string; staleBefore: string },
): Promise<boolean> {
  const result = await db
    .updateTable('subscription_confirmations')
    .set({ token_hash: claim.tokenHash, claimed_at: claim.now, expires_at: claim.expiresAt })
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .where((eb) => eb.or([eb('claimed_at', 'is', null), eb('claimed_at', '<=', claim.staleBefore)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markConfirmationSent(db: Executor, id: string, now: string): Promise<void> {
  await db.updateTable('subscription_confirmations').set({ sent_at: now }).where('id', '=', id).execute();
}

/** The mail server refused the address for good: not retried, and the token is void. */
export async function markConfirmationFailed(db: Executor, id: string, now: string, failure: string): Promise<void> {
  await db
    .updateTable('subscription_confirmations')
    .set({ failed_at: now, failure: failure.slice(0, 1000), token_hash: null, expires_at: null })
    .where('id', '=', id)
    .execute();
}

/** A send that failed: its token never left, so it is dropped and the row can be claimed again. */
export async function releaseConfirmation(db: Executor, id: string): Promise<void> {
  await db
    .updateTable('subscription_confirmations')
    .set({ token_hash: null, claimed_at: null, expires_at: null })
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .execute();
}

/** Single use: true for the one request that marks it used. */
export async function useConfirmation(db: Executor, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('subscription_confirmations')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Confirmation emails recorded since `since` and not sent, nor held by a live worker. */
export async function unsentConfirmationIds(db: Executor, since: string, staleBefore: string, limit = 1000): Promise<string[]> {
  const rows = await db
    .selectFrom('subscription_confirmations')
    .select('id')
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .where('created_at', '>', since)
    .where((eb) => eb.or([eb('claimed_at', 'is', null), eb('claimed_at', '<=', staleBefore)]))
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** Addresses that asked and never confirmed, once every link they had has run out. */
export async function deleteAbandonedPending(db: Executor, createdBefore: string): Promise<number> {
  const result = await db
    .deleteFrom('subscribers')
    .where('status', '=', 'pending')
    .where('created_at', '<', createdBefore)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('subscription_confirmations')
            .select(sql.lit(1).as('one'))
            .whereRef('subscription_confirmations.subscriber_id', '=', 'subscribers.id')
            .where('subscription_confirmations.created_at', '>=', createdBefore),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function replaceKeywords(db: Executor, subscriberIds: readonly string[], keywordsOf: (id: string) => string[]): Promise<void> {
  for (let i = 0; i < subscriberIds.length; i += 500) {
    const chunk = subscriberIds.slice(i, i + 500);
    await db.deleteFrom('subscriber_keywords').where('subscriber_id', 'in', chunk).execute();
    const rows = chunk.flatMap((id) => keywordKeys(keywordsOf(id)).map((keyword_key) => ({ subscriber_id: id, keyword_key })));
    for (let j = 0; j < rows.length; j += 2000) {
      await db.insertInto('subscriber_keywords').values(rows.slice(j, j + 2000)).execute();
    }
  }
}

/** Confirms the subscriber with the wishes and consent given; `keywords` and their rows change together. */
export async function confirmSubscriber(
  db: Executor,
  id: string,
  wishes: { languages: string[]; keywords: string[] },
  consent: Consent,
): Promise<void> {
  await db
    .updateTable('subscribers')
    .set({
      status: 'confirmed',
      languages: JSON.stringify(wishes.languages),
      keywords: JSON.stringify(wishes.keywords),
      consent_at: consent.at,
      consent_ip: consent.ip,
      consent_user_agent: consent.userAgent,
      consent_text: consent.text,
      consent_source: consent.source,
      confirmed_at: consent.at,
      unsubscribed_at: null,
      updated_at: consent.at,
    })
    .where('id', '=', id)
    .execute();
  await replaceKeywords(db, [id], () => wishes.keywords);
}

export async function updatePreferences(db: Executor, id: string, wishes: { languages: string[]; keywords: string[] }, now: string) {
  await db
    .updateTable('subscribers')
    .set({ languages: JSON.stringify(wishes.languages), keywords: JSON.stringify(wishes.keywords), updated_at: now })
    .where('id', '=', id)
    .execute();
  await replaceKeywords(db, [id], () => wishes.keywords);
}

export async function markUnsubscribed(db: Executor, id: string, now: string): Promise<void> {
  await db
    .updateTable('subscribers')
    .set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '!=', 'unsubscribed')
    .execute();
}

export async function deleteSubscribers(db: Executor, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.deleteFrom('subscribers').where('id', 'in', [...ids]).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** `like` pattern matching `text` anywhere, with its own wildcards taken literally. */
const containing = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listSubscribers(
  db: Executor,
  newsroomId: string,
  filter: { status?: SubscriberStatus; q?: string; limit: number; offset: number },
): Promise<{ items: Subscriber[]; total: number }> {
  let query = db.selectFrom('subscribers').where('newsroom_id', '=', newsroomId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.q) query = query.where(sql<boolean>`email_key like ${containing(filter.q)} escape '\\'`);
  const [rows, total] = await Promise.all([
    query.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).offset(filter.offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toSubscriber), total: Number(total.n) };
}

export async function countSubscribers(db: Executor, newsroomId: string) {
  const [byStatus, byLanguages] = await Promise.all([
    db
      .selectFrom('subscribers')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('newsroom_id', '=', newsroomId)
      .groupBy('status')
      .execute(),
    // Few distinct language lists exist: group by the stored list, split it here.
    db
      .selectFrom('subscribers')
      .select(['languages', (eb) => eb.fn.countAll<number>().as('n')])
      .where('newsroom_id', '=', newsroomId)
      .where('status', '=', 'confirmed')
      .groupBy('languages')
      .execute(),
  ]);
  const status = { pending: 0, confirmed: 0, unsubscribed: 0 };
  for (const row of byStatus) status[row.status as SubscriberStatus] = Number(row.n);
  const language: Record<string, number> = {};
  for (const row of byLanguages) {
    for (const lang of JSON.parse(row.languages) as string[]) language[lang] = (language[lang] ?? 0) + Number(row.n);
  }
  return { status, language };
}

/** Unsubscribed by the delivery after `atLeast` hard bounces (suppressed), rather than by their own choice. */
export async function countSuppressed(db: Executor, newsroomId: string, atLeast: number): Promise<number> {
  const row = await db
    .selectFrom('subscribers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('newsroom_id', '=', newsroomId)
    .where('status', '=', 'unsubscribed')
    .where('hard_bounces', '>=', atLeast)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The newsroom's subscribers in pages by id (keyset), for the CSV export. */
export async function subscribersAfter(db: Executor, newsroomId: string, afterId: string, limit: number): Promise<Subscriber[]> {
  const rows = await db
    .selectFrom('subscribers')
    .selectAll()
    .where('newsroom_id', '=', newsroomId)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toSubscriber);
}

export async function subscribersByEmailKeys(db: Executor, newsroomId: string, keys: readonly string[]): Promise<Map<string, Subscriber>> {
  const found = new Map<string, Subscriber>();
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await db
      .selectFrom('subscribers')
      .selectAll()
      .where('newsroom_id', '=', newsroomId)
      .where('email_key', 'in', keys.slice(i, i + 500))
      .execute();
    for (const row of rows) found.set(row.email_key, toSubscriber(row));
  }
  return found;
}

export async function insertConfirmedSubscribers(
  db: Executor,
  newsroomId: string,
  entries: readonly { email: string; languages: string[]; keywords: string[] }[],
  consent: Consent,
  now: string,
): Promise<string[]> {
  const rows = entries.map((e) => ({
    id: randomUUID(),
    newsroom_id: newsroomId,
    email: e.email,
    email_key: emailKey(e.email),
    languages: JSON.stringify(e.languages),
    keywords: JSON.stringify(e.keywords),
    status: 'confirmed',
    consent_at: consent.at,
    consent_ip: consent.ip,
    consent_user_agent: consent.userAgent,
    consent_text: consent.text,
    consent_source: consent.source,
    created_at: now,
    updated_at: now,
    confirmed_at: now,
  }));
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('subscribers').values(rows.slice(i, i + 500)).execute();
  const keywordsById = new Map<string, string[]>(rows.map((r, i) => [r.id, entries[i]!.keywords]));
  await replaceKeywords(db, [...keywordsById.keys()], (id) => keywordsById.get(id)!);
  return [...keywordsById.keys()];
}

export async function confirmationsOf(db: Executor, subscriberIds: readonly string[]): Promise<SubscriptionConfirmationRow[]> {
  if (subscriberIds.length === 0) return [];
  return db
    .selectFrom('subscription_confirmations')
    .selectAll()
    .where('subscriber_id', 'in', [...subscriberIds])
    .orderBy('created_at')
    .execute();
}

export async function deliveriesOf(db: Executor, subscriberIds: readonly string[]) {
  if (subscriberIds.length === 0) return [];
  return db
    .selectFrom('deliveries')
    .select(['subscriber_id', 'release_id', 'status', 'created_at', 'updated_at'])
    .where('subscriber_id', 'in', [...subscriberIds])
    .orderBy('created_at')
    .execute();
}
