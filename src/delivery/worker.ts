import type { Job } from 'bullmq';
import type { AppContext } from '../context.js';
import { type RunningWorker, startQueueWorker, withTimeout } from '../lib/queue.js';
import { isoTime } from '../lib/time.js';
import { fanOut, requeueRelease } from './fanout.js';
import {
  IDLE_QUEUED_MS,
  LIVENESS_EVERY_MS,
  LIVENESS_STALE_MS,
  processOwner,
  RECOVERY_EVERY_MS,
  SEND_CONCURRENCY,
  sendBatchSize,
  sendLimiter,
} from './policy.js';
import { DELIVERY_QUEUE, PREPARE_JOB, sendJobs, type SendJob } from './queue.js';
import { deadOwners, forgetDeadOwners, markStopped, releaseClaims, renewLiveness, takeOverFanouts } from './repository.js';
import { processMessages, processPrepareJob, processSendJob } from './send.js';
import { recoverNotices } from '../notices/operations.js';
import { NOTICE_JOB, type NoticeJob, processNoticeJob } from '../notices/send.js';

/*
 * The delivery worker: runs send jobs, renews this process's liveness, and rebuilds jobs
 * from the database whenever Redis may have lost them or a process died (see README.md
 * in this folder, "Nothing lost").
 */

/**
 * Finds what lost its process or its job and sets it going again:
 * - fan-outs and claimed deliveries of dead processes (liveness lapsed), and, as the last
 *   resort, of any owner silent for longer than the claim timeout;
 * - queued deliveries: all of them when Redis may have lost every job (`everything`) or
 *   claims were just put back, else only those idle for long (their job failed for good).
 */
export async function recoverDeliveries(ctx: AppContext, everything: boolean): Promise<{ requeued: number; fanouts: number }> {
  const now = ctx.clock.now();
  const at = isoTime(now);
  const staleBefore = isoTime(new Date(now.getTime() - ctx.config.deliveryClaimTimeoutMs));
  const dead = await deadOwners(ctx.db, ctx.store.dialect, processOwner, LIVENESS_STALE_MS);
  if (dead.length) ctx.logger.warn({ owners: dead }, 'taking over from worker processes that stopped renewing their liveness');
  const fanouts = [
    ...(await takeOverFanouts(ctx.db, at, processOwner, { owners: dead })),
    ...(await takeOverFanouts(ctx.db, at, processOwner, { staleBefore })),
  ];
  const released = [...(await releaseClaims(ctx.db, { owners: dead }, at)), ...(await releaseClaims(ctx.db, { staleBefore }, at))];
  if (released.length) ctx.logger.warn({ deliveries: released.length }, 'claims of a stopped worker queued again');
  await forgetDeadOwners(ctx.db, ctx.store.dialect, dead, LIVENESS_STALE_MS);
  // What was claimed has waited longest: its jobs go to the front of the queue (lifo), not behind the fan-out's.
  await queueFirst(ctx, released);
  const requeued = await requeueRelease(
    ctx,
    undefined,
    everything || released.length ? undefined : isoTime(new Date(now.getTime() - IDLE_QUEUED_MS)),
  );
  for (const fanout of fanouts) {
    ctx.logger.warn({ releaseId: fanout.releaseId }, 'taking over a fan-out whose worker stopped');
    await fanOut(ctx, fanout.releaseId, fanout.cursor ?? '');
  }
  return { requeued, fanouts: fanouts.length };
}

async function queueFirst(ctx: AppContext, deliveries: { id: string; releaseId: string }[]): Promise<void> {
  const byRelease = new Map<string, string[]>();
  for (const d of deliveries) byRelease.set(d.releaseId, [...(byRelease.get(d.releaseId) ?? []), d.id]);
  for (const [releaseId, ids] of byRelease) {
    await ctx.deliveries.addBulk(sendJobs(releaseId, ids, sendBatchSize(ctx.config), `takeover${Date.now()}`, { lifo: true }));
  }
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
  // Alive before anything is claimed: a claim by an owner without a row waits for the claim timeout.
  await renewLiveness(ctx.db, ctx.store.dialect, processOwner);
  const limiter = sendLimiter(ctx.config);
  const worker = startQueueWorker<SendJob>(DELIVERY_QUEUE, ctx.queueSettings, (job) =>
    // Correction notices ride this queue (and its send rate): see src/notices/.
    job.name === NOTICE_JOB
      ? processNoticeJob(ctx, job as Job<NoticeJob>)
      : job.name === PREPARE_JOB
        ? processPrepareJob(ctx, processMessages, job)
        : processSendJob(ctx, processMessages, job), {
    concurrency: SEND_CONCURRENCY,
    ...(limiter ? { limiter } : {}),
  });

  let running: Promise<unknown> = Promise.resolve();
  let pending = 0;
  // One recovery at a time in this process; `everything` when Redis may have lost the jobs.
  const recover = (reason: string, everything: boolean) => {
    pending++;
    running = running
      .then(async () => {
        // The marker is set whatever the reason, so that the next look does not take an empty Redis for a lost one.
        const lost = ctx.deliveries.isReady() && (await redisLostData(ctx));
        const all = everything || lost;
        const result = await recoverDeliveries(ctx, all);
        await recoverNotices(ctx, all);
        if (result.requeued || result.fanouts) logger.info({ reason, ...result }, 'deliveries recovered from the database');
      })
      .catch((err) => logger.error({ err, reason }, 'delivery recovery failed'))
      .finally(() => pending--);
    return running;
  };

  // Renews this process's liveness; a dead process seen meanwhile is taken over now, not at the next periodic look.
  const liveness = setInterval(() => {
    renewLiveness(ctx.db, ctx.store.dialect, processOwner)
      .then(async () => {
        if (!pending && (await deadOwners(ctx.db, ctx.store.dialect, processOwner, LIVENESS_STALE_MS)).length) {
          void recover('a worker process stopped', false);
        }
      })
      .catch((err) => logger.error({ err }, 'could not renew the liveness of this worker'));
  }, LIVENESS_EVERY_MS);

  ctx.deliveries.onReady(() => void recover('redis connected', true));
  const timer = setInterval(() => void recover('periodic', false), RECOVERY_EVERY_MS);
  await recover('start', true);
  logger.info({ owner: processOwner }, 'delivery worker started');

  return {
    name: 'delivery',
    async close() {
      clearInterval(timer);
      clearInterval(liveness);
      await worker.closeAll();
      await running;
      await markStopped(ctx.db, ctx.store.dialect, processOwner, LIVENESS_STALE_MS).catch((err) =>
        logger.error({ err }, 'could not mark this worker stopped'),
      );
    },
  };
}
