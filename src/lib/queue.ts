import { type Job, type JobsOptions, Queue, Worker, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/*
 * Queue plumbing, once for every component. Queues carry ids, never content, and are
 * derived from the database: Redis may lose them, and each worker rebuilds its jobs
 * from the database whenever its connection is (re-)established.
 */

/** How long a request may wait on Redis before going on without it. */
const ENQUEUE_TIMEOUT_MS = 2000;

export function createRedis(url: string, options: { failFast: boolean }): Redis {
  // A producer must fail fast while Redis is away; a worker waits for it to come back.
  return new Redis(url, {
    maxRetriesPerRequest: options.failFast ? 1 : null,
    enableOfflineQueue: !options.failFast,
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'Redis'): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface QueueSettings {
  redisUrl: string;
  /** Redis key prefix (QUEUE_PREFIX). */
  prefix: string;
  logger: Logger;
}

/**
 * A producer's side of one queue. Adding is best effort: with Redis away it logs and
 * returns, and never fails or stalls a request; the database still holds the truth.
 */
export interface BestEffortQueue<T> {
  readonly queue: Queue<T>;
  /** The producer's own connection (fails fast), for a component's own keys next to its queue. */
  readonly redis: Redis;
  add(name: string, data: T, options: JobsOptions & { jobId: string }): Promise<void>;
  /**
   * A job that runs at `at` (at once if that is past), tried 5 times with exponential
   * back-off. The job id names the thing and the time, so adding it again is a no-op.
   */
  addAt(name: string, data: T, jobId: string, at: string): Promise<void>;
  addBulk(jobs: { name: string; data: T; opts: JobsOptions & { jobId: string } }[]): Promise<void>;
  remove(jobId: string): Promise<void>;
  /** Calls back each time the connection to Redis is (re-)established. */
  onReady(listener: () => void): void;
  isReady(): boolean;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createBestEffortQueue<T>(name: string, settings: QueueSettings): BestEffortQueue<T> {
  const { logger } = settings;
  const connection = createRedis(settings.redisUrl, { failFast: true });
  const queue = new Queue<T>(name, { connection, prefix: settings.prefix });
  queue.on('error', (err) => logger.warn({ err: err.message, queue: name }, 'queue: redis error'));

  async function attempt(what: string, context: Record<string, unknown>, command: () => Promise<unknown>) {
    try {
      if (connection.status !== 'ready') throw new Error(`Redis is ${connection.status}`);
      await withTimeout(command(), ENQUEUE_TIMEOUT_MS);
    } catch (err) {
      logger.warn({ err: (err as Error).message, queue: name, ...context }, `could not ${what}; the worker rebuilds it from the database`);
    }
  }

  const add: BestEffortQueue<T>['add'] = (jobName, data, options) =>
    attempt('queue a job', { jobId: options.jobId }, () => queue.add(jobName as never, data as never, options));

  return {
    queue,
    redis: connection,
    add,
    addAt: (jobName, data, jobId, at) =>
      add(jobName, data, {
        jobId,
        delay: Math.max(0, Date.parse(at) - Date.now()),
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: 1000,
        removeOnFail: 5000,
      }),
    addBulk: (jobs) =>
      jobs.length === 0
        ? Promise.resolve()
        : attempt('queue jobs', { jobs: jobs.length }, () => queue.addBulk(jobs as never)),
    remove: (jobId) => attempt('remove a job', { jobId }, () => queue.remove(jobId)),
    onReady(listener) {
      connection.on('ready', listener);
    },
    isReady: () => connection.status === 'ready',
    async ping() {
      if (connection.status !== 'ready') throw new Error(`Redis is ${connection.status}`);
      await withTimeout(connection.ping(), ENQUEUE_TIMEOUT_MS);
    },
    async close() {
      // With Redis away there is nothing to close gracefully: drop the connection first,
      // or closing waits on a reconnect that may never come.
      if (connection.status !== 'ready') connection.disconnect();
      await queue.close();
      connection.disconnect();
    },
  };
}

/** A background worker as main.ts sees it: started once, closed on SIGTERM. */
export interface RunningWorker {
  readonly name: string;
  close(): Promise<void>;
}

/**
 * Starts a BullMQ worker on its own (blocking) connection. `close()` lets jobs under
 * way finish, then drops the connection; with Redis away it does not wait.
 */
export function startQueueWorker<T>(
  name: string,
  settings: QueueSettings,
  process: (job: Job<T>) => Promise<unknown>,
  options: Omit<WorkerOptions, 'connection' | 'prefix'> = {},
): Worker<T> & { closeAll(): Promise<void> } {
  const { logger } = settings;
  const connection = createRedis(settings.redisUrl, { failFast: false });
  const worker = new Worker<T>(name, process, { ...options, connection, prefix: settings.prefix });
  worker.on('error', (err) => logger.warn({ err: err.message, queue: name }, 'worker: redis error'));
  worker.on('failed', (job, err) => logger.error({ err, jobId: job?.id, queue: name }, 'job failed'));
  return Object.assign(worker, {
    async closeAll() {
      // Jobs under way can only be finished through Redis: with it away, stop at once
      // (they stay in Redis, and the sweep covers what they were for).
      const redisAway = connection.status !== 'ready';
      if (redisAway) connection.disconnect();
      await worker.close(redisAway);
      connection.disconnect();
    },
  });
}
