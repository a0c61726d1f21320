import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';

export const PUBLICATION_QUEUE = 'publication';

export interface PublishJob {
  releaseId: string;
}

/**
 * Delayed jobs that mark scheduled releases published at their time. They are derived
 * from the database and may be lost: whether a release is public is decided from its
 * row alone, and the worker's sweep and start-up reconciliation rebuild the jobs.
 */
export interface PublicationQueue {
  readonly queue: Queue<PublishJob>;
  /** Best effort: a Redis outage is logged, never turned into a failed request. */
  schedule(releaseId: string, publishAt: string): Promise<void>;
  unschedule(releaseId: string, publishAt: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** BullMQ job ids may not contain ':'. One id per release and time makes adding idempotent. */
export const publishJobId = (releaseId: string, publishAt: string) =>
  `publish-${releaseId}-${Date.parse(publishAt)}`;

export function createRedis(url: string, options: { failFast: boolean }): Redis {
  // A producer must fail fast while Redis is away; a worker waits for it to come back.
  return new Redis(url, {
    maxRetriesPerRequest: options.failFast ? 1 : null,
    enableOfflineQueue: !options.failFast,
    lazyConnect: false,
  });
}

export function createPublicationQueue(redisUrl: string, logger: Logger, prefix = 'newsroom'): PublicationQueue {
  const connection = createRedis(redisUrl, { failFast: true });
  connection.on('error', (err) => logger.warn({ err: err.message }, 'redis (publication queue) error'));
  const queue = new Queue<PublishJob>(PUBLICATION_QUEUE, { connection, prefix });

  return {
    queue,
    async schedule(releaseId, publishAt) {
      const delay = Math.max(0, Date.parse(publishAt) - Date.now());
      try {
        await queue.add(
          'publish',
          { releaseId },
          { jobId: publishJobId(releaseId, publishAt), delay, removeOnComplete: 1000, removeOnFail: 5000, attempts: 5, backoff: { type: 'exponential', delay: 1000 } },
        );
      } catch (err) {
        logger.warn({ err, releaseId }, 'could not queue publication; the sweep will publish it on time');
      }
    },
    async unschedule(releaseId, publishAt) {
      try {
        await queue.remove(publishJobId(releaseId, publishAt));
      } catch (err) {
        // A stale job is harmless: it finds the release no longer due and does nothing.
        logger.warn({ err, releaseId }, 'could not remove a publication job');
      }
    },
    async ping() {
      await connection.ping();
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
