import type { Job } from 'bullmq';
import type { AppContext } from '../context.js';
import { submitRelease } from '../indexnow/submit.js';
import { type RunningWorker, startQueueWorker } from '../lib/queue.js';
import { isoTime } from '../lib/time.js';
import { findReleaseEvent } from '../publication/events.js';
import { announcedRelease } from '../releases/public.js';
import { distribute, pingExternalHubs, verifyIntent } from '../websub/hub.js';
import { deleteExpiredSubscriptions, intentIds } from '../websub/repository.js';
import { dispatchEvents, redispatchRecent } from './dispatch.js';
import { AGGREGATOR_QUEUE, aggregatorJob, type AggregatorJobData } from './queue.js';

/**
 * The sweep dispatches events whose jobs could not be queued when they were recorded
 * (Redis away, or a web process's correction or withdrawal), and ends expired leases.
 */
const SWEEP_EVERY_MS = 2_000;

async function run(ctx: AppContext, job: Job<AggregatorJobData>): Promise<string> {
  switch (job.name) {
    case 'verify':
      return verifyIntent(ctx, job);
    case 'distribute':
      return distribute(ctx, job);
    case 'indexnow':
      return submitRelease(ctx, job);
    case 'hubs': {
      const event = await findReleaseEvent(ctx.db, (job.data as { eventId: string }).eventId);
      const release = event && (await announcedRelease(ctx, event.releaseId));
      if (release) await pingExternalHubs(ctx, release);
      return 'pinged';
    }
    default:
      return 'unknown job';
  }
}

/** Verification jobs of every request still waiting for one: Redis may have lost them. */
async function requeueVerifications(ctx: AppContext): Promise<number> {
  const ids = await intentIds(ctx.db);
  const jobs = ids.map((intentId) => aggregatorJob({ name: 'verify', data: { intentId } }, ctx.config.outboundRetryDelayMs));
  await ctx.aggregators.addBulk(jobs);
  return ids.length;
}

export async function startAggregatorWorker(ctx: AppContext): Promise<RunningWorker> {
  const { logger } = ctx;
  // Callbacks are slow others' servers: many at once, each bounded by its timeout.
  const worker = startQueueWorker<AggregatorJobData>(AGGREGATOR_QUEUE, ctx.queueSettings, (job) => run(ctx, job), { concurrency: 32 });

  const sweep = async () => {
    try {
      await dispatchEvents(ctx);
      const expired = await deleteExpiredSubscriptions(ctx.db, isoTime(ctx.clock.now()));
      if (expired) logger.info({ expired }, 'websub: leases ended');
    } catch (err) {
      logger.error({ err }, 'aggregator sweep failed');
    }
  };
  const sweeper = setInterval(sweep, SWEEP_EVERY_MS);
  await sweep();

  const rebuild = () =>
    Promise.all([redispatchRecent(ctx), requeueVerifications(ctx)])
      .then(([events, verifications]) => logger.info({ events, verifications }, 'aggregator jobs rebuilt from the database'))
      .catch((err) => logger.error({ err }, 'could not rebuild aggregator jobs'));
  ctx.aggregators.onReady(rebuild);
  if (ctx.aggregators.isReady()) await rebuild();
  logger.info('aggregator worker started');

  return {
    name: 'aggregators',
    async close() {
      clearInterval(sweeper);
      await worker.closeAll();
    },
  };
}
