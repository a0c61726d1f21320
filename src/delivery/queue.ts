import type { JobsOptions } from 'bullmq';
import { type BestEffortQueue, createBestEffortQueue, type QueueSettings } from '../lib/queue.js';

export const DELIVERY_QUEUE = 'delivery';

/** A batch of deliveries of one release to send: ids only, the database holds the rest. */
export interface SendJob {
  releaseId: string;
  deliveryIds: string[];
}

export type DeliveryQueue = BestEffortQueue<SendJob>;

export const createDeliveryQueue = (settings: QueueSettings): DeliveryQueue =>
  createBestEffortQueue<SendJob>(DELIVERY_QUEUE, settings);

/**
 * Send jobs for the given deliveries, `size` to a job. `kind` starts the job id (BullMQ
 * ids may not contain ':'): the same deliveries queued twice the same way make one job.
 * Completed jobs are removed, so that ids can be used again; a failed job is kept a
 * while for the dashboard, which is why a retry or a recovery takes a new id.
 */
export function sendJobs(
  releaseId: string,
  deliveryIds: string[],
  size: number,
  kind: string,
  options: JobsOptions = {},
): { name: string; data: SendJob; opts: JobsOptions & { jobId: string } }[] {
  const jobs = [];
  for (let i = 0; i < deliveryIds.length; i += size) {
    const ids = deliveryIds.slice(i, i + size);
    jobs.push({
      name: 'send',
      data: { releaseId, deliveryIds: ids },
      opts: {
        jobId: `${kind}-${ids[0]}-${ids.length}`,
        // A job fails only when the database or the renderer did: the deliveries themselves stay queued.
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600, count: 1000 },
        ...options,
      },
    });
  }
  return jobs;
}

/** A send job without deliveries: builds a scheduled release's emails shortly before its time (send.ts). */
export const PREPARE_JOB = 'prepare';

/** The prepare job of a release due at `publishAt`: one per release and time, however often asked. */
export const prepareJob = (releaseId: string, publishAt: string) => ({
  name: PREPARE_JOB,
  data: { releaseId, deliveryIds: [] } satisfies SendJob,
  opts: { jobId: `prepare-${releaseId}-${Date.parse(publishAt)}`, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } },
});
