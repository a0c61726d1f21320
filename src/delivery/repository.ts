import { type ExpressionBuilder, sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { databaseTime, type Db, type Dialect } from '../lib/db/database.js';
import { recordReleaseEvents } from '../publication/events.js';
import type { Database } from '../lib/db/schema.js';
import { hasStatus } from '../releases/visibility.js';

/*
 * The deliveries table is the truth about who got which release. Every state change
 * below is one UPDATE whose WHERE names the state it leaves, so that of two processes
 * only one can make it (see README.md in this folder).
 */

/**
 * Claims "this release became public" for the releases that are public now and were not
 * announced yet (all of them, or the one given), and opens their fan-out, in one
 * transaction. Only the process whose update changed a row gets its id back.
 */
export async function claimAnnouncements(db: Db, now: string, owner: string, releaseId?: string): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable('releases')
      .set({ announced_at: now })
      .where('announced_at', 'is', null)
      .where(hasStatus('published', now));
    if (releaseId) query = query.where('id', '=', releaseId);
    const ids = (await query.returning('id').execute()).map((r) => r.id);
    if (ids.length) {
      await trx
        .insertInto('fanouts')
        .values(ids.map((id) => ({ release_id: id, claimed_at: now, claimed_by: owner, cursor: null, done_at: null })))
        .execute();
      // The outbox row for WebSub and IndexNow: written with the claim, or not at all.
      await recordReleaseEvents(trx, ids, 'published', now);
    }
    return ids;
  });
}

export interface Fanout {
  releaseId: string;
  cursor: string | null;
}

/**
 * Who a takeover is of: owners known dead (their liveness lapsed), or, as the last
 * resort, whoever has not shown progress since `staleBefore` (the claim timeout).
 */
export type Abandoned = { owners: string[] } | { staleBefore: string };

/** Takes over the unfinished fan-outs of dead owners (or without progress since `staleBefore`). */
export async function takeOverFanouts(db: Db, now: string, owner: string, of: Abandoned): Promise<Fanout[]> {
  if ('owners' in of && !of.owners.length) return [];
  let query = db.selectFrom('fanouts').select(['release_id', 'claimed_at', 'claimed_by', 'cursor']).where('done_at', 'is', null);
  query = 'owners' in of ? query.where('claimed_by', 'in', of.owners) : query.where('claimed_at', '<', of.staleBefore);
  const taken: Fanout[] = [];
  for (const row of await query.execute()) {
    // Of two processes taking over at once, the one whose update still finds the old owner wins.
    const result = await db
      .updateTable('fanouts')
      .set({ claimed_at: now, claimed_by: owner })
      .where('release_id', '=', row.release_id)
      .where('claimed_by', '=', row.claimed_by)
      .where('claimed_at', '=', row.claimed_at)
      .where('done_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) taken.push({ releaseId: row.release_id, cursor: row.cursor });
  }
  return taken;
}

/** Records progress; false when another process took the fan-out over meanwhile. */
export async function advanceFanout(db: Db, releaseId: string, owner: string, cursor: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('fanouts')
    .set({ cursor, claimed_at: now })
    .where('release_id', '=', releaseId)
    .where('claimed_by', '=', owner)
    .where('done_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function finishFanout(db: Db, releaseId: string, owner: string, now: string): Promise<void> {
  await db
    .updateTable('fanouts')
    .set({ done_at: now })
    .where('release_id', '=', releaseId)
    .where('claimed_by', '=', owner)
    .execute();
}

export interface Audience {
  newsroomId: string;
  /** Lower-cased keywords of the release, in any language. */
  keywordKeys: string[];
}

export interface Recipient {
  id: string;
  emailKey: string;
  languages: string[];
}

/** A range of subscriber ids: after `after` (from the first when null), up to and including `upTo` (to the last when null). */
export interface IdRange {
  after: string | null;
  upTo: string | null;
}

/**
 * One page (keyset by id, within `range`) of the confirmed subscribers who get the
 * release: those without keywords, and those with a keyword the release carries.
 */
export async function audiencePage(db: Db, audience: Audience, range: IdRange, limit: number): Promise<Recipient[]> {
  let query = db
    .selectFrom('subscribers')
    .select(['id', 'email_key', 'languages'])
    .where('newsroom_id', '=', audience.newsroomId)
    .where('status', '=', 'confirmed')
    .where((eb) => {
      const keywordsOf = () =>
        eb.selectFrom('subscriber_keywords').select('subscriber_keywords.subscriber_id').whereRef('subscriber_keywords.subscriber_id', '=', 'subscribers.id');
      const none = eb.not(eb.exists(keywordsOf()));
      return audience.keywordKeys.length
        ? eb.or([none, eb.exists(keywordsOf().where('subscriber_keywords.keyword_key', 'in', audience.keywordKeys))])
        : none;
    });
  if (range.after !== null) query = query.where('id', '>', range.after);
  if (range.upTo !== null) query = query.where('id', '<=', range.upTo);
  const rows = await query.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, emailKey: r.email_key, languages: JSON.parse(r.languages) as string[] }));
}

export interface NewDelivery {
  id: string;
  subscriberId: string;
  language: string;
  emailHash: string;
}

/**
 * A new delivery's id: time-ordered (UUIDv7), so that the deliveries of one page, and so
 * of one send job, sit side by side in the table and its indexes. Claiming and recording
 * a job then touch a few pages instead of one per row: a quarter of the database time per
 * message of random ids (`npm run bench:delivery-ids`, SQLite, jobs of 25).
 */
export const newDeliveryId = () => uuidv7();

/** Writes deliveries, ignoring those that exist (a repeated fan-out adds nothing). Returns the ids written. */
export async function insertDeliveries(db: Db, releaseId: string, rows: NewDelivery[], now: string): Promise<string[]> {
  if (!rows.length) return [];
  const inserted = await db
    .insertInto('deliveries')
    .values(
      rows.map((r) => ({
        id: r.id,
        release_id: releaseId,
        subscriber_id: r.subscriberId,
        status: 'queued',
        language: r.language,
        email_hash: r.emailHash,
        created_at: now,
        updated_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['release_id', 'subscriber_id']).doNothing())
    .returning('id')
    .execute();
  return inserted.map((r) => r.id);
}

export interface ClaimedDelivery {
  id: string;
  subscriberId: string;
  language: string;
  attempts: number;
  email: string;
  subscriberStatus: string;
  /** The recipient is an accredited journalist (src/delivery/journalists.ts), not a subscriber. */
  journalist: boolean;
}

/**
 * The address and status of each recipient a claim names, by id: one read of each table
 * for a whole batch. A journalist who still takes release emails counts as confirmed.
 */
export async function recipientsById(db: Db, ids: string[]) {
  const unique = [...new Set(ids)];
  const [subscribers, journalists] = await Promise.all([
    db.selectFrom('subscribers').select(['id', 'email', 'status']).where('id', 'in', unique).execute(),
    db.selectFrom('journalists').select(['id', 'email', 'status', 'unsubscribed_at']).where('id', 'in', unique).execute(),
  ]);
  return new Map<string, { email: string; status: string; journalist: boolean }>([
    ...subscribers.map((s) => [s.id, { email: s.email, status: s.status, journalist: false }] as const),
    ...journalists.map((j) => [j.id, { email: j.email, status: j.status === 'active' && !j.unsubscribed_at ? 'confirmed' : 'unsubscribed', journalist: true }] as const),
  ]);
}

/**
 * Claims the given deliveries that are still queued (queued -> sending). A delivery
 * another process claimed, or that was sent, is left out: it is never sent again here.
 */
export async function claimDeliveries(db: Db, ids: string[], owner: string, now: string): Promise<ClaimedDelivery[]> {
  if (!ids.length) return [];
  const claimed = await db
    .updateTable('deliveries')
    .set((eb) => ({ status: 'sending', claimed_at: now, claimed_by: owner, attempts: eb('attempts', '+', 1), updated_at: now }))
    .where('id', 'in', ids)
    .where('status', '=', 'queued')
    .returning(['id', 'subscriber_id', 'language', 'attempts'])
    .execute();
  if (!claimed.length) return [];
  const byId = await recipientsById(db, claimed.map((c) => c.subscriber_id));
  return claimed.map((c) => ({
    id: c.id,
    subscriberId: c.subscriber_id,
    language: c.language ?? '',
    attempts: Number(c.attempts),
    email: byId.get(c.subscriber_id)?.email ?? '',
    subscriberStatus: byId.get(c.subscriber_id)?.status ?? 'erased',
    journalist: byId.get(c.subscriber_id)?.journalist ?? false,
  }));
}

/** `case id when ... then ... end`: a value per delivery, so that one statement records a whole batch. */
const perDelivery = (values: [id: string, value: string][]) =>
  sql<string>`case id ${sql.join(
    values.map(([id, value]) => sql`when ${id} then ${value}`),
    sql` `,
  )} end`;

export interface SentOutcome {
  id: string;
  response: string;
  messageId: string;
}

/**
 * Records a job's accepted messages in one statement (sent_at: when recorded, at most
 * one job's sending after the server accepted). Also when recovery took the claim for
 * dead meanwhile (queued again): it was sent, so it must not be sent again.
 */
export async function recordSent(db: Db, sent: SentOutcome[], now: string): Promise<void> {
  if (!sent.length) return;
  await db
    .updateTable('deliveries')
    .set({
      status: 'sent',
      sent_at: now,
      smtp_response: perDelivery(sent.map((s) => [s.id, s.response])),
      message_id: perDelivery(sent.map((s) => [s.id, s.messageId])),
      error: null,
      claimed_at: null,
      updated_at: now,
    })
    .where('id', 'in', sent.map((s) => s.id))
    .where('status', 'in', ['sending', 'queued'])
    .execute();
}

/** Permanent failures: failed for good, each with the server's reply. */
export async function recordFailed(db: Db, failed: { id: string; reply: string }[], now: string): Promise<void> {
  if (!failed.length) return;
  const replies = perDelivery(failed.map((f) => [f.id, f.reply]));
  await db
    .updateTable('deliveries')
    .set({ status: 'failed', smtp_response: replies, error: replies, updated_at: now })
    .where('id', 'in', failed.map((f) => f.id))
    .where('status', '=', 'sending')
    .execute();
}

/**
 * Temporary failures: back to queued for another attempt, or failed once a delivery has
 * had `maxAttempts` (one statement for each of the two). Returns the ids left failed.
 */
export async function recordRetries(
  db: Db,
  retries: { id: string; reply: string; attempts: number }[],
  maxAttempts: number,
  now: string,
): Promise<string[]> {
  const exhausted = retries.filter((r) => r.attempts >= maxAttempts);
  for (const [status, rows] of [
    ['queued', retries.filter((r) => r.attempts < maxAttempts)],
    ['failed', exhausted],
  ] as const) {
    if (!rows.length) continue;
    const replies = perDelivery(rows.map((r) => [r.id, r.reply]));
    await db
      .updateTable('deliveries')
      .set({ status, claimed_at: null, claimed_by: null, error: replies, ...(status === 'failed' ? { smtp_response: replies } : {}), updated_at: now })
      .where('id', 'in', rows.map((r) => r.id))
      .where('status', '=', 'sending')
      .execute();
  }
  return exhausted.map((r) => r.id);
}

/** Skips deliveries that may not be sent: of a withdrawn release, or to a subscriber who left. */
export async function skipDeliveries(db: Db, where: { releaseId: string } | { ids: string[] }, now: string): Promise<number> {
  let query = db.updateTable('deliveries').set({ status: 'skipped', claimed_at: null, claimed_by: null, updated_at: now });
  if ('releaseId' in where) query = query.where('release_id', '=', where.releaseId).where('status', '=', 'queued');
  else if (where.ids.length) query = query.where('id', 'in', where.ids).where('status', 'in', ['queued', 'sending']);
  else return 0;
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Counts a permanent failure against the address; the second one (on another release)
 * unsubscribes it: it stays suppressed until it subscribes again with a new opt-in.
 */
export async function recordHardBounce(db: Db, subscriberId: string, suppressAt: number, now: string): Promise<void> {
  await db
    .updateTable('subscribers')
    .set((eb) => ({
      hard_bounces: eb('hard_bounces', '+', 1),
      status: sql<string>`case when hard_bounces + 1 >= ${suppressAt} then 'unsubscribed' else status end`,
      unsubscribed_at: sql<string | null>`case when hard_bounces + 1 >= ${suppressAt} and status <> 'unsubscribed' then ${now} else unsubscribed_at end`,
      updated_at: now,
    }))
    .where('id', '=', subscriberId)
    .execute();
}

/** The claims of dead owners (or older than `staleBefore`) go back to queued. Returns them. */
export async function releaseClaims(db: Db, of: Abandoned, now: string): Promise<{ id: string; releaseId: string }[]> {
  if ('owners' in of && !of.owners.length) return [];
  let query = db
    .updateTable('deliveries')
    .set({ status: 'queued', claimed_at: null, claimed_by: null, updated_at: now })
    .where('status', '=', 'sending');
  query = 'owners' in of ? query.where('claimed_by', 'in', of.owners) : query.where('claimed_at', '<', of.staleBefore);
  const rows = await query.returning(['id', 'release_id']).execute();
  return rows.map((r) => ({ id: r.id, releaseId: r.release_id }));
}

/** Records that `owner` is alive, by the database's clock (one clock for every machine). */
export async function renewLiveness(db: Db, dialect: Dialect, owner: string): Promise<void> {
  await db
    .insertInto('worker_liveness')
    .values({ owner, started_at: databaseTime(dialect), renewed_at: databaseTime(dialect) })
    .onConflict((oc) => oc.column('owner').doUpdateSet({ renewed_at: databaseTime(dialect) }))
    .execute();
}

/** A process that stops on purpose: others take over what it leaves at their next look. */
export async function markStopped(db: Db, dialect: Dialect, owner: string, staleMs: number): Promise<void> {
  await db
    .updateTable('worker_liveness')
    .set({ renewed_at: databaseTime(dialect, 2 * staleMs) })
    .where('owner', '=', owner)
    .execute();
}

/** Owners (other than `self`) whose liveness was last renewed more than `staleMs` ago: dead. */
export async function deadOwners(db: Db, dialect: Dialect, self: string, staleMs: number): Promise<string[]> {
  const rows = await db
    .selectFrom('worker_liveness')
    .select('owner')
    .where('renewed_at', '<', databaseTime(dialect, staleMs))
    .where('owner', '<>', self)
    .execute();
  return rows.map((r) => r.owner);
}

/** Drops the liveness rows of owners taken over, unless one renewed meanwhile (it was only slow). */
export async function forgetDeadOwners(db: Db, dialect: Dialect, owners: string[], staleMs: number): Promise<void> {
  if (!owners.length) return;
  await db
    .deleteFrom('worker_liveness')
    .where('owner', 'in', owners)
    .where('renewed_at', '<', databaseTime(dialect, staleMs))
    .execute();
}

/** One page (keyset by id) of queued deliveries, of one release or of all; `idleSince` keeps only rows untouched since then. */
export async function queuedPage(
  db: Db,
  filter: { releaseId?: string; idleSince?: string },
  after: string | null,
  limit: number,
): Promise<{ id: string; releaseId: string }[]> {
  let query = db.selectFrom('deliveries').select(['id', 'release_id']).where('status', '=', 'queued');
  if (filter.releaseId) query = query.where('release_id', '=', filter.releaseId);
  if (filter.idleSince) query = query.where('updated_at', '<', filter.idleSince);
  if (after !== null) query = query.where('id', '>', after);
  const rows = await query.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, releaseId: r.release_id }));
}

export async function countDeliveryStates(db: Db, releaseId: string): Promise<{ status: string; count: number }[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
    .where('release_id', '=', releaseId)
    .groupBy('status')
    .execute();
  return rows.map((r) => ({ status: r.status, count: Number(r.count) }));
}

export interface DeliveryReport {
  counts: { status: string; language: string | null; count: number }[];
  firstSentAt: string | null;
  lastSentAt: string | null;
  /** Failed for good, or bounced after the relay accepted (`bounced`; the reply is then the bounce's). */
  failures: { id: string; subscriberId: string; email: string | null; language: string | null; attempts: number; reply: string | null; bounced: boolean; at: string }[];
  failureCount: number;
}

/** What GET /api/releases/:id/deliveries shows: counts, send times, and one page of failures. */
export async function deliveryReport(db: Db, releaseId: string, page: { limit: number; offset: number }): Promise<DeliveryReport> {
  const [counts, times, failures] = await Promise.all([
    db
      .selectFrom('deliveries')
      .select((eb) => ['status', 'language', eb.fn.countAll<number>().as('count')])
      .where('release_id', '=', releaseId)
      .groupBy(['status', 'language'])
      .execute(),
    db
      .selectFrom('deliveries')
      .select((eb) => [eb.fn.min('sent_at').as('first'), eb.fn.max('sent_at').as('last')])
      .where('release_id', '=', releaseId)
      .where('sent_at', 'is not', null)
      .executeTakeFirst(),
    db
      .selectFrom('deliveries')
      .leftJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
      // A journalist's delivery (delivery/journalists.ts) names the journalist.
      .leftJoin('journalists', 'journalists.id', 'deliveries.subscriber_id')
      .select((eb) => [
        'deliveries.id',
        'deliveries.subscriber_id',
        eb.fn.coalesce('subscribers.email', 'journalists.email').as('email'),
        'deliveries.language',
        'deliveries.attempts',
        'deliveries.smtp_response',
        'deliveries.bounce_reason',
        'deliveries.status',
        'deliveries.updated_at',
      ])
      .where('deliveries.release_id', '=', releaseId)
      .where('deliveries.status', 'in', ['failed', 'bounced'])
      .orderBy('deliveries.updated_at')
      .orderBy('deliveries.id')
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
  ]);
  return {
    counts: counts.map((c) => ({ status: c.status, language: c.language, count: Number(c.count) })),
    firstSentAt: (times?.first as string | null | undefined) ?? null,
    lastSentAt: (times?.last as string | null | undefined) ?? null,
    failures: failures.map((f) => ({
      id: f.id,
      subscriberId: f.subscriber_id,
      email: f.email ?? null,
      language: f.language,
      attempts: Number(f.attempts),
      reply: f.status === 'bounced' ? f.bounce_reason : f.smtp_response,
      bounced: f.status === 'bounced',
      at: f.updated_at,
    })),
    failureCount: counts.filter((c) => c.status === 'failed' || c.status === 'bounced').reduce((sum, c) => sum + Number(c.count), 0),
  };
}

export interface SendingProgress {
  /** As stored (see releases/visibility.ts for what it means now). */
  status: string;
  publishAt: string | null;
  publishedAt: string | null;
  updatedAt: string;
  version: number;
  /** The release became public and its email delivery started (claimAnnouncements). */
  announced: boolean;
  /** Its fan-out is still writing deliveries. */
  fanningOut: boolean;
}

/** Where a release stands between scheduling and the last email: one small read, for a page that follows it live. */
export async function findSendingProgress(db: Db, releaseId: string): Promise<SendingProgress | undefined> {
  const row = await db
    .selectFrom('releases')
    .select((eb) => [
      'status',
      'publish_at',
      'published_at',
      'updated_at',
      'version',
      'announced_at',
      eb
        .exists(eb.selectFrom('fanouts').select('fanouts.release_id').whereRef('fanouts.release_id', '=', 'releases.id').where('fanouts.done_at', 'is', null))
        .as('fanning_out'),
    ])
    .where('id', '=', releaseId)
    .executeTakeFirst();
  return (
    row && {
      status: row.status,
      publishAt: row.publish_at,
      publishedAt: row.published_at,
      updatedAt: row.updated_at,
      version: Number(row.version),
      announced: row.announced_at !== null,
      fanningOut: Boolean(row.fanning_out),
    }
  );
}

/** When an email's outcome was known: accepted (sent_at) or failed for good (its last change). */
const outcomeAt = sql<string>`case when status = 'sent' then sent_at else updated_at end`;
const isOutcome = (eb: ExpressionBuilder<Database, 'deliveries'>) =>
  eb.or([eb.and([eb('status', '=', 'sent'), eb('sent_at', 'is not', null)]), eb('status', '=', 'failed')]);

/** The first and last moment a release's email was accepted or failed for good; undefined before any. */
export async function outcomeSpan(db: Db, releaseId: string): Promise<{ first: string; last: string } | undefined> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => [eb.fn.min(outcomeAt).as('first'), eb.fn.max(outcomeAt).as('last')])
    .where('release_id', '=', releaseId)
    .where(isOutcome)
    .executeTakeFirst();
  return row?.first && row.last ? { first: String(row.first), last: String(row.last) } : undefined;
}

export interface Outcomes {
  /** Accepted by the SMTP server at the first attempt. */
  accepted: number;
  /** Accepted after one or more temporary failures. */
  retried: number;
  /** Failed for good. */
  failed: number;
}

/**
 * A release's email outcomes in each `widthMs` interval from `from` on: index i counts
 * those in [from + i * width, from + (i + 1) * width).
 */
export async function outcomesPerInterval(db: Db, dialect: Dialect, releaseId: string, from: string, widthMs: number): Promise<Map<number, Outcomes>> {
  const bucket =
    dialect === 'postgres'
      ? sql<number>`floor(extract(epoch from (${outcomeAt} - ${from}::timestamptz)) * 1000 / ${widthMs})`
      : sql<number>`cast((julianday(${outcomeAt}) - julianday(${from})) * 86400000 / ${widthMs} as integer)`;
  const kind = sql<string>`case when status = 'failed' then 'failed' when attempts > 1 then 'retried' else 'accepted' end`;
  const rows = await db
    .selectFrom('deliveries')
    .select((eb) => [bucket.as('bucket'), kind.as('kind'), eb.fn.countAll<number>().as('count')])
    .where('release_id', '=', releaseId)
    .where(isOutcome)
    // By the output names: the expressions' bound values would make a second copy differ.
    .groupBy([sql`bucket`, sql`kind`])
    .execute();
  const buckets = new Map<number, Outcomes>();
  for (const row of rows) {
    const index = Number(row.bucket);
    const counts = buckets.get(index) ?? { accepted: 0, retried: 0, failed: 0 };
    counts[row.kind as keyof Outcomes] += Number(row.count);
    buckets.set(index, counts);
  }
  return buckets;
}
