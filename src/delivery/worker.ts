import type { Job } from 'bullmq';
import type { AppContext } from '../context.js';
import { type RunningWorker, startQueueWorker, withTimeout } from '../lib/queue.js';
import { isoTime } from '../lib/time.js';
import { fanOut, requeueRelease } from './fanout.js';
import { IDLE_QUEUED_MS, processOwner, RECOVERY_EVERY_MS, SEND_CONCURRENCY, sendLimiter } from './policy.js';
import { DELIVERY_QUEUE, type SendJob } from './queue.js';
import { RenderCache, warmUpRenderer } from './render.js';
import { releaseStaleClaims, takeOverStaleFanouts } from './repository.js';
import { processSendJob } from './send.js';
import { recoverNotices } from '../notices/operations.js';
import { NOTICE_JOB, type NoticeJob, processNoticeJob } from '../notices/send.js';

/*
 * The delivery worker: runs send jobs, and rebuilds them from the database whenever
 * Redis may have lost them (see README.md in this folder, "Recovery").
 */

/**
 * Finds what lost its process or its job and sets it going again:
 * - fan-outs and claimed deliveries whose owner stopped (older than the claim timeout);
 * - queued deliveries: all of them when Redis may have lost every job (`everything`),
 *   else only those idle for long (their job failed for good).
 */
export async function recoverDeliveries(ctx: AppContext, everything: boolean): Promise<{ requeued: number; fanouts: number }> {
  const now = ctx.clock.now();
  const staleBefore = isoTime(new Date(now.getTime() - ctx.config.deliveryClaimTimeoutMs));
  const fanouts = await takeOverStaleFanouts(ctx.db, isoTime(now), staleBefore, processOwner);
  for (const fanout of fanouts) {
    ctx.logger.warn({ releaseId: fanout.releaseId }, 'taking over a fan-out whose worker stopped');
    await fanOut(ctx, fanout.releaseId, fanout.cursor ?? '');
  }
  const released = await releaseStaleClaims(ctx.db, staleBefore, isoTime(now));
  if (released.length) ctx.logger.warn({ deliveries: released.length }, 'claims of a stopped worker queued again');
  const requeued = await requeueRelease(
    ctx,
    undefined,
    everything || released.length ? undefined : isoTime(new Date(now.getTime() - IDLE_QUEUED_MS)),
  );
  return { requeued, fanouts: fanouts.length };
}

/**
 * A key that lives as long as Redis keeps its data: when it is gone, so may be every
 * job (a flush, a restart without persistence), and everything queued is queued again.
 */
async function redisLostData(ctx: AppContext): Promise<boolean> {
  const key = `${ctx.config.queuePrefix}:${DELIVERY_QUEUE}:data-marker`;
  return (await withTimeout(ctx.deliveries.redis.set(key, '1', 'NX'), 2000)) === 'OK';
}

export async function startDeliveryWorker(ctx: AppContext): Promise<RunningWorker> {
  const { logger } = ctx;
  await warmUpRenderer();
  const cache = new RenderCache();
  const limiter = sendLimiter(ctx.config);
  const worker = startQueueWorker<SendJob>(DELIVERY_QUEUE, ctx.queueSettings, (job) =>
    // Correction notices ride this queue (and its send rate): see src/notices/.
    job.name === NOTICE_JOB ? processNoticeJob(ctx, job as Job<NoticeJob>) : processSendJob(ctx, cache, job), {
    concurrency: SEND_CONCURRENCY,
    ...(limiter ? { limiter } : {}),
  });

  let running: Promise<unknown> = Promise.resolve();
  // One recovery at a time in this process; `everything` when Redis may have lost the jobs.
  const recover = (reason: string, everything: boolean) => {
    running = running
      .then(async () => {
        const all = everything || (ctx.deliveries.isReady() && (await redisLostData(ctx)));
        const result = await recoverDeliveries(ctx, all);
        await recoverNotices(ctx, all);
        if (result.requeued || result.fanouts) logger.info({ reason, ...result }, 'deliveries recovered from the database');
      })
      .catch((err) => logger.error({ err, reason }, 'delivery recovery failed'));
    return running;
  };

  ctx.deliveries.onReady(() => void recover('redis connected', true));
  const timer = setInterval(() => void recover('periodic', false), RECOVERY_EVERY_MS);
  await recover('start', true);
  logger.info({ owner: processOwner }, 'delivery worker started');

  return {
    name: 'delivery',
    async close() {
      clearInterval(timer);
      await worker.closeAll();
      await running;
    },
  };
}
