import type { Job } from 'bullmq';
import type { AppContext } from '../context.js';
import { type RunningWorker, startQueueWorker } from '../lib/queue.js';
import { isoTime } from '../lib/time.js';
import { markDuePublished, scheduledReleases } from '../releases/repository.js';
import { EARLY_MS, PUBLICATION_QUEUE, type PublishJob } from './queue.js';
import { announceAndDeliver } from '../delivery/fanout.js';
import { prepareJob } from '../delivery/queue.js';
import { loadEmailRenderer } from '../delivery/render.js';

/**
 * The sweep reads only the database, so publication is recorded and announced even with
 * Redis away. Its period bounds how late the first email of a release can leave when
 * Redis lost the delayed job (the contract allows 10 s).
 */
const SWEEP_EVERY_MS = 2_000;

/**
 * Records due releases as published, then announces every public release not announced
 * yet (scheduled ones now due, and those published now): the announcement is claimed in
 * the database, so only one process starts the email delivery of a release, once.
 */
export async function completeDuePublications(ctx: AppContext, releaseId?: string): Promise<string[]> {
  // One instant for both: a release due between two readings of the clock would be
  // announced (due by then) before it is recorded published (its version one less).
  const now = ctx.clock.now();
  const ids = await markDuePublished(ctx.db, isoTime(now), releaseId);
  if (ids.length) ctx.logger.info({ releaseIds: ids }, 'releases published');
  await announceAndDeliver(ctx, releaseId, now);
  return ids;
}

/** How long before its time a scheduled release's emails are built (delivery/send.ts, processPrepareJob). */
const PREPARE_AHEAD_MS = 5_000;

/**
 * For the releases due within PREPARE_AHEAD_MS: asks the delivery worker to build their
 * emails (once each: the job id), and arms a timer in this process for each one's time.
 * The timer, not only the delayed job, starts the publication on the millisecond: a
 * delayed BullMQ job has been seen to come out a second late (then the sweep found it).
 * Whichever comes first publishes; the rest find nothing to do.
 */
async function prepareDueSoon(ctx: AppContext, armed: Map<string, NodeJS.Timeout>): Promise<void> {
  const now = ctx.clock.now().getTime();
  const soon = (await scheduledReleases(ctx.db, isoTime(new Date(now)))).filter((r) => Date.parse(r.publish_at) - now <= PREPARE_AHEAD_MS);
  for (const release of soon) {
    const key = `${release.id}|${release.publish_at}`;
    if (armed.has(key)) continue;
    const at = Date.parse(release.publish_at);
    const publish = () => {
      // A timer may fire a millisecond early by the wall clock: then it waits the rest.
      const left = at - ctx.clock.now().getTime();
      if (left > 0) return void armed.set(key, setTimeout(publish, left));
      armed.delete(key);
      completeDuePublications(ctx, release.id).catch((err) => ctx.logger.error({ err, releaseId: release.id }, 'publication at its time failed; the sweep tries again'));
    };
    armed.set(key, setTimeout(publish, Math.max(0, at - now)));
  }
  if (!soon.length) return;
  // Whichever process announces the release renders its email if it did not prepare it: not with MJML still to load.
  loadEmailRenderer().catch((err) => ctx.logger.error({ err }, 'could not load the email renderer'));
  await ctx.deliveries.addBulk(soon.map((r) => prepareJob(r.id, r.publish_at)));
}

/** Puts a delayed job in Redis for every scheduled release: Redis may have lost them. */
export async function reconcilePublicationJobs(ctx: AppContext): Promise<number> {
  const scheduled = await scheduledReleases(ctx.db, isoTime(ctx.clock.now()));
  for (const release of scheduled) await ctx.publication.schedule(release.id, release.publish_at);
  return scheduled.length;
}

export async function startPublicationWorker(ctx: AppContext): Promise<RunningWorker> {
  const { logger } = ctx;
  const worker = startQueueWorker<PublishJob>(
    PUBLICATION_QUEUE,
    ctx.queueSettings,
    async (job: Job<PublishJob>) => {
      // A job of another shape (an older version's) has nothing to tell: the sweep covers it.
      if (typeof job.data?.releaseId !== 'string') return [];
      // Fired early on purpose (queue.ts, EARLY_MS): the rest of the wait is a timer's, exact.
      const early = typeof job.data.publishAt === 'string' ? Date.parse(job.data.publishAt) - ctx.clock.now().getTime() : 0;
      if (early > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(early, 2 * EARLY_MS)));
      return completeDuePublications(ctx, job.data.releaseId);
    },
    { concurrency: 4 },
  );

  const armed = new Map<string, NodeJS.Timeout>();
  const sweep = () =>
    Promise.all([
      completeDuePublications(ctx).catch((err) => logger.error({ err }, 'publication sweep failed')),
      prepareDueSoon(ctx, armed).catch((err) => logger.error({ err }, 'could not ask for the emails of releases due soon')),
    ]);
  const sweeper = setInterval(sweep, SWEEP_EVERY_MS);
  await sweep();

  // Every (re)connection may be to a Redis that lost its data: rebuild the jobs then.
  const rebuild = () =>
    reconcilePublicationJobs(ctx)
      .then((queued) => logger.info({ queued }, 'publication jobs rebuilt from the database'))
      .catch((err) => logger.error({ err }, 'could not rebuild publication jobs'));
  ctx.publication.onReady(rebuild);
  if (ctx.publication.isReady()) await rebuild();
  logger.info('publication worker started');

  return {
    name: 'publication',
    async close() {
      clearInterval(sweeper);
      for (const timer of armed.values()) clearTimeout(timer);
      await worker.closeAll();
    },
  };
}
