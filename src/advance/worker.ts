import type { Job } from 'bullmq';
import type { AppContext } from '../context.js';
import { type RunningWorker, startQueueWorker } from '../lib/queue.js';
import { isoTime } from '../lib/time.js';
import { sendAdvanceLinks } from './mail.js';
import { ADVANCE_QUEUE, type AdvanceJob } from './queue.js';
import { dueAdvanceReleases, upcomingAdvanceAccess } from './repository.js';
import { sendAdvanceUpdate, sendDueAdvanceUpdates } from './updates.js';

/** How late a link can leave when Redis lost its delayed job. */
const SWEEP_EVERY_MS = 5_000;

/** Sends the links of every release whose advance access is open and not all sent, and the update emails still to send (the sweep). */
export async function sendDueAdvanceLinks(ctx: AppContext): Promise<number> {
  let sent = 0;
  for (const releaseId of await dueAdvanceReleases(ctx.db, isoTime(ctx.clock.now()))) sent += await sendAdvanceLinks(ctx, releaseId);
  return sent + (await sendDueAdvanceUpdates(ctx));
}

/** Puts a delayed job in Redis for every advance access still to open: Redis may have lost them. */
export async function reconcileAdvanceJobs(ctx: AppContext): Promise<number> {
  const upcoming = await upcomingAdvanceAccess(ctx.db, isoTime(ctx.clock.now()));
  for (const { releaseId, opensAt } of upcoming) await ctx.advance.schedule(releaseId, opensAt);
  return upcoming.length;
}

export async function startAdvanceWorker(ctx: AppContext): Promise<RunningWorker> {
  const { logger } = ctx;
  const worker = startQueueWorker<AdvanceJob>(
    ADVANCE_QUEUE,
    ctx.queueSettings,
    async (job: Job<AdvanceJob>) => {
      if (job.name === 'update') return typeof job.data?.updateId === 'string' ? sendAdvanceUpdate(ctx, job.data.updateId) : 0;
      return typeof job.data?.releaseId === 'string' ? sendAdvanceLinks(ctx, job.data.releaseId) : 0;
    },
    { concurrency: 2 },
  );
  const sweep = () => sendDueAdvanceLinks(ctx).catch((err) => logger.error({ err }, 'advance link sweep failed'));
  const sweeper = setInterval(sweep, SWEEP_EVERY_MS);
  void sweep();
  const rebuild = () =>
    reconcileAdvanceJobs(ctx)
      .then((queued) => logger.info({ queued }, 'advance link jobs rebuilt from the database'))
      .catch((err) => logger.error({ err }, 'could not rebuild advance link jobs'));
  ctx.advance.onReady(rebuild);
  if (ctx.advance.isReady()) await rebuild();
  logger.info('advance link worker started');
  return {
    name: 'advance',
    async close() {
      clearInterval(sweeper);
      await worker.closeAll();
    },
  };
}
