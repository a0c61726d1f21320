import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import { isoTime } from '../lib/time.js';
import { publicReleaseOrNone } from '../releases/public.js';
import { FIRST_PAGE, PAGE, processOwner, sendBatchSize } from './policy.js';
import {
  advanceFanout,
  type Audience,
  audiencePage,
  claimAnnouncements,
  finishFanout,
  insertDeliveries,
  newDeliveryId,
  queuedPage,
  type Recipient,
} from './repository.js';
import { sendJobs } from './queue.js';
import { emailSource, processMessages, sendDeliveries } from './send.js';
import { insertJournalistDeliveries } from './journalists.js';
import { dispatchEvents } from '../aggregators/dispatch.js';

/*
 * The fan-out: once a release is announced, one delivery row per subscriber who gets it,
 * written page by page (keyset on the subscriber id, from a start point of the release's
 * own: see audienceInReleaseOrder), with their send jobs queued as
 * each page is written. The fanouts row records the cursor, so a fan-out cut off by a
 * crash is resumed (see worker.ts, recoverDeliveries); the unique (release, subscriber) makes any
 * repetition harmless.
 */

/** The language a subscriber gets: their first one the release has, else the release's first. */
export function deliveryLanguage(subscriberLanguages: readonly string[], releaseLanguages: readonly string[]): string {
  return subscriberLanguages.find((l) => releaseLanguages.includes(l)) ?? releaseLanguages[0]!;
}

/** Kept after an address is erased, so that a data-subject request can still be matched. */
export const emailHash = (emailKey: string) => createHash('sha256').update(emailKey.toLowerCase()).digest('hex');

/**
 * Claims the announcement of the releases that are public and not announced yet (all,
 * or the one given) and fans each out. Called by the publication worker: its delayed
 * job, its sweep and publish-now all come here, and only one process wins each release.
 */
export async function announceAndDeliver(ctx: AppContext, releaseId?: string, now = ctx.clock.now()): Promise<string[]> {
  const announced = await claimAnnouncements(ctx.db, isoTime(now), processOwner, releaseId);
  // WebSub and IndexNow first: their jobs are few and quick to queue, the fan-out may be long.
  if (announced.length) await dispatchEvents(ctx).catch((err) => ctx.logger.error({ err }, 'release events not dispatched; the sweep tries again'));
  // Side by side: one large audience must not hold up the start of another release's.
  await Promise.all(
    announced.map((id) => {
      ctx.logger.info({ releaseId: id }, 'release announced: delivery starts');
      return fanOut(ctx, id, null);
    }),
  );
  return announced;
}

/**
 * The queue priority of the send jobs of a fan-out's n-th page: n (BullMQ runs lower
 * first, FIFO within one). Pages of releases fanned out at once take turns, and the first
 * page of a release that starts later goes before the rest of one already under way.
 * Jobs without priority (retries, recovery) go before all of these.
 */
const fanoutPriority = (pageNumber: number) => Math.min(pageNumber, 2_000_000);

/**
 * Where a release's fan-out starts among the subscriber ids (as a UUID): a point of its
 * own, derived from the release id, so that each release reaches a different part of the
 * audience first and nobody is always among the last.
 */
export function fanoutStart(releaseId: string): string {
  const hex = createHash('sha256').update(`fanout-start\0${releaseId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The next page of a release's audience after `after` (the last id written; null at the
 * start), in the release's order: the ids after its start point, then, wrapping round,
 * those up to it. Both laps page by the primary key; the cursor alone tells which lap it
 * is in (subscriber ids are lower-case UUIDs, ordered alike here and by the database).
 */
export async function audienceInReleaseOrder(ctx: Pick<AppContext, 'db'>, audience: Audience, releaseId: string, after: string | null, limit: number): Promise<Recipient[]> {
  const start = fanoutStart(releaseId);
  if (after !== null && after <= start) return audiencePage(ctx.db, audience, { after, upTo: start }, limit);
  const firstLap = await audiencePage(ctx.db, audience, { after: after ?? start, upTo: null }, limit);
  if (firstLap.length === limit) return firstLap;
  return [...firstLap, ...(await audiencePage(ctx.db, audience, { after: null, upTo: start }, limit - firstLap.length))];
}

/** Writes the deliveries of a release from `cursor` on and queues their send jobs. */
export async function fanOut(ctx: AppContext, releaseId: string, cursor: string | null): Promise<void> {
  const release = await publicReleaseOrNone(ctx, releaseId);
  if (!release) {
    await finishFanout(ctx.db, releaseId, processOwner, isoTime(ctx.clock.now()));
    return;
  }
  const releaseLanguages = release.translations.map((tr) => tr.lang);
  const audience = {
    newsroomId: release.newsroomId,
    keywordKeys: [...new Set(Object.values(release.keywords).flat().map((k) => k.toLowerCase()))],
  };
  const batch = sendBatchSize(ctx.config);
  let written = 0;
  // A fan-out taken over before its first page was written resumes with the cursor '': from the start.
  let after = cursor || null;
  for (let limit = FIRST_PAGE, pageNumber = 1; ; limit = PAGE, pageNumber++) {
    const page = await audienceInReleaseOrder(ctx, audience, releaseId, after, limit);
    if (!page.length) break;
    const now = isoTime(ctx.clock.now());
    const ids = await insertDeliveries(
      ctx.db,
      releaseId,
      page.map((s) => ({
        id: newDeliveryId(),
        subscriberId: s.id,
        language: deliveryLanguage(s.languages, releaseLanguages),
        emailHash: emailHash(s.emailKey),
      })),
      now,
    );
    if (pageNumber === 1 && cursor === null && !ctx.config.sendRatePerSecond) {
      // The first page of a release at its time is sent here and now, before the next is
      // written: no queue hand-over, no read of the release again, and no write of later
      // pages holding up its first messages. Its deliveries are claimed as a job's are.
      // Under a send rate (SEND_RATE_PER_SECOND) it goes by the queue, whose limiter keeps it.
      await sendDeliveries(ctx, processMessages, emailSource(ctx, releaseId, release.version, release), ids).catch(async (err) => {
        // The claim decides: queued, whatever this did not claim goes by the queue instead.
        ctx.logger.error({ err, releaseId }, 'the first page of a fan-out was not sent here; queued');
        await ctx.deliveries.addBulk(sendJobs(releaseId, ids, batch, 'send'));
      });
    } else {
      await ctx.deliveries.addBulk(sendJobs(releaseId, ids, batch, 'send', { priority: fanoutPriority(pageNumber) }));
    }
    written += ids.length;
    after = page[page.length - 1]!.id;
    // Another process took the fan-out over (this one was taken for dead): it goes on from here.
    if (!(await advanceFanout(ctx.db, releaseId, processOwner, after, now))) return;
    if (page.length < limit) break;
  }
  // Last, the accredited journalists who are not subscribers (journalists.ts).
  const journalists = await insertJournalistDeliveries(
    ctx.db,
    { id: releaseId, newsroomId: release.newsroomId, languages: releaseLanguages },
    isoTime(ctx.clock.now()),
  );
  await ctx.deliveries.addBulk(sendJobs(releaseId, journalists, batch, 'send'));
  written += journalists.length;
  if (cursor !== null) await requeueRelease(ctx, releaseId);
  await finishFanout(ctx.db, releaseId, processOwner, isoTime(ctx.clock.now()));
  ctx.logger.info({ releaseId, deliveries: written }, 'fan-out done');
}

/**
 * Queues a send job for every queued delivery (of one release, or all; with `idleSince`,
 * only those untouched since then). Rows whose job is still in Redis get a second job:
 * harmless, since a delivery is claimed before it is sent.
 */
export async function requeueRelease(ctx: AppContext, releaseId?: string, idleSince?: string): Promise<number> {
  const batch = sendBatchSize(ctx.config);
  const kind = `requeue${Date.now()}`;
  let after: string | null = null;
  let count = 0;
  for (;;) {
    const page = await queuedPage(ctx.db, { releaseId, idleSince }, after, PAGE);
    if (!page.length) break;
    const byRelease = new Map<string, string[]>();
    for (const row of page) {
      const ids = byRelease.get(row.releaseId) ?? [];
      ids.push(row.id);
      byRelease.set(row.releaseId, ids);
    }
    for (const [id, ids] of byRelease) await ctx.deliveries.addBulk(sendJobs(id, ids, batch, kind));
    count += page.length;
    after = page[page.length - 1]!.id;
  }
  return count;
}
