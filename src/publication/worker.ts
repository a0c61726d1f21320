import { type Job, Worker } from 'bullmq';
import type { AppContext } from '../context.js';
import { isoTime } from '../lib/time.js';
import { markDuePublished, scheduledReleases } from '../releases/repository.js';
import { createRedis, PUBLICATION_QUEUE, type PublishJob } from './queue.js';

const SWEEP_EVERY_MS = 30_000;

/**
 * Records due releases as published. The release is public at its time anyway (see
 * releases/visibility.ts); this step is what later sets off the email delivery, once.
 * Returns the ids that became published here.
 */
export async function completeDuePublications(ctx: AppContext, releaseId?: string): Promise<string[]> {
  const ids = await markDuePublished(ctx.db, isoTime(ctx.clock.now()), releaseId);
  if (ids.length) ctx.logger.info({ releaseIds: ids }, 'releases published');
  return ids;
}

/** Puts a delayed job in Redis for every scheduled release: Redis may have lost them. */
export async function reconcilePublicationJobs(ctx: AppContext): Promise<number> {
  const scheduled = await scheduledReleases(ctx.db, isoTime(ctx.clock.now()));
  for (const release of scheduled) await ctx.publication.schedule(release.id, release.publish_at);
  return scheduled.length;
}

export interface PublicationWorker {
  close(): Promise<void>;
}

export async function startPublicationWorker(ctx: AppContext, prefix = 'newsroom'): Promise<PublicationWorker> {
  const connection = createRedis(ctx.config.redisUrl, { failFast: false });
  connection.on('error', (err) => ctx.logger.warn({ err: err.message }, 'redis (publication worker) error'));
  const worker = new Worker<PublishJob>(
    PUBLICATION_QUEUE,
    async (job: Job<PublishJob>) => {
      // The sweep catches anything a lost or late job missed.
      if (job.name === 'sweep') return completeDuePublications(ctx);
      return completeDuePublications(ctx, job.data.releaseId);
    },
    { connection, prefix, concurrency: 4 },
  );
  worker.on('failed', (job, err) => ctx.logger.error({ err, jobId: job?.id }, 'publication job failed'));

  await ctx.publication.queue.upsertJobScheduler('sweep', { every: SWEEP_EVERY_MS }, { name: 'sweep' });
  await completeDuePublications(ctx);
  const queued = await reconcilePublicationJobs(ctx);
  ctx.logger.info({ queued }, 'publication worker started');

  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
