import type { JobsOptions } from 'bullmq';
import { type BestEffortQueue, createBestEffortQueue, type QueueSettings } from '../lib/queue.js';

/*
 * Jobs that tell aggregators: WebSub verification of intent and content distribution,
 * IndexNow submissions, pings of external hubs. Ids only; the database (release_events,
 * websub_intents, websub_subscriptions) holds the truth, and the worker queues them again
 * from it. Job ids are made of those ids (no ':'), so queuing twice makes one job; done
 * jobs are kept a day so that queuing again after a Redis reconnect changes nothing.
 */

export const AGGREGATOR_QUEUE = 'aggregators';

export type AggregatorJob =
  | { name: 'verify'; data: { intentId: string } }
  | { name: 'distribute'; data: { eventId: string; subscriptionId: string } }
  | { name: 'indexnow'; data: { eventId: string } }
  | { name: 'hubs'; data: { eventId: string } };

export type AggregatorJobData = AggregatorJob['data'];
export type AggregatorQueue = BestEffortQueue<AggregatorJobData>;

export const createAggregatorQueue = (settings: QueueSettings): AggregatorQueue =>
  createBestEffortQueue<AggregatorJobData>(AGGREGATOR_QUEUE, settings);

export const ATTEMPTS = 5;

export function aggregatorJob(job: AggregatorJob, retryDelayMs: number): { name: string; data: AggregatorJobData; opts: JobsOptions & { jobId: string } } {
  const d = job.data as Record<string, string>;
  const jobId =
    job.name === 'verify' ? `verify-${d.intentId}`
    : job.name === 'distribute' ? `websub-${d.eventId}-${d.subscriptionId}`
    : `${job.name}-${d.eventId}`;
  return {
    name: job.name,
    data: job.data,
    opts: {
      jobId,
      attempts: ATTEMPTS,
      backoff: { type: 'exponential', delay: retryDelayMs },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  };
}
