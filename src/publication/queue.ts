import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';

export const PUBLICATION_QUEUE = 'publication';

/** How long a request may wait on Redis before going on without it. */
const ENQUEUE_TIMEOUT_MS = 2000;

export interface PublishJob {
  releaseId: string;
}

/**
 * Delayed jobs that record scheduled releases as published at their time. They are
 * derived from the database and may be lost: whether a release is public is decided
 * from its row alone, and the worker rebuilds the jobs (see worker.ts).
 */
export interface PublicationQueue {
  readonly queue: Queue<PublishJob>;
  /** Best effort: with Redis away this logs and returns; it never fails or stalls a request. */
  schedule(releaseId: string, publishAt: string): Promise<void>;
  unschedule(releaseId: string, publishAt: string): Promise<void>;
  /** Calls back each time the connection to Redis is (re-)established. */
  onReady(listener: () => void): void;
  isReady(): boolean;
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
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createPublicationQueue(redisUrl: string, logger: Logger, prefix: string): PublicationQueue {
  const connection = createRedis(redisUrl, { failFast: true });
  const queue = new Queue<PublishJob>(PUBLICATION_QUEUE, { connection, prefix });
  queue.on('error', (err) => logger.warn({ err: err.message }, 'publication queue: redis error'));

  /** Runs a queue command unless Redis is known to be away. */
  async function attempt(what: string, releaseId: string, command: () => Promise<unknown>) {
    try {
      if (connection.status !== 'ready') throw new Error(`Redis is ${connection.status}`);
      await withTimeout(command(), ENQUEUE_TIMEOUT_MS);
    } catch (err) {
      logger.warn({ err: (err as Error).message, releaseId }, `could not ${what}; the worker rebuilds it from the database`);
    }
  }

  return {
    queue,
    schedule: (releaseId, publishAt) =>
      attempt('queue a publication', releaseId, () =>
        queue.add(
          'publish',
          { releaseId },
          {
            jobId: publishJobId(releaseId, publishAt),
            delay: Math.max(0, Date.parse(publishAt) - Date.now()),
            attempts: 5,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: 1000,
            removeOnFail: 5000,
          },
        ),
      ),
    // A job left behind is harmless: it finds the release not due and does nothing.
    unschedule: (releaseId, publishAt) =>
      attempt('remove a publication job', releaseId, () => queue.remove(publishJobId(releaseId, publishAt))),
    onReady(listener) {
      connection.on('ready', listener);
    },
    isReady: () => connection.status === 'ready',
    async ping() {
      if (connection.status !== 'ready') throw new Error(`Redis is ${connection.status}`);
      await withTimeout(connection.ping(), ENQUEUE_TIMEOUT_MS);
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
