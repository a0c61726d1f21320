import { type BestEffortQueue, createBestEffortQueue, type QueueSettings } from '../lib/queue.js';

export const PUBLICATION_QUEUE = 'publication';

export interface PublishJob {
  releaseId: string;
  /** The time it is due at: the job fires up to EARLY_MS before and waits for it in the process (worker.ts). */
  publishAt?: string;
}

/**
 * A delayed job comes out of Redis up to a tenth of a second late; one that fires this
 * much early and waits for the time with a timer starts the release on the millisecond.
 */
export const EARLY_MS = 500;

/**
 * Delayed jobs that record scheduled releases as published at their time. They are
 * derived from the database and may be lost: whether a release is public is decided
 * from its row alone, and the worker rebuilds the jobs (see worker.ts).
 */
export interface PublicationQueue {
  readonly queue: BestEffortQueue<PublishJob>['queue'];
  /** Best effort: with Redis away this logs and returns; it never fails or stalls a request. */
  schedule(releaseId: string, publishAt: string): Promise<void>;
  unschedule(releaseId: string, publishAt: string): Promise<void>;
  onReady(listener: () => void): void;
  isReady(): boolean;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** BullMQ job ids may not contain ':'. One id per release and time makes adding idempotent. */
export const publishJobId = (releaseId: string, publishAt: string) =>
  `publish-${releaseId}-${Date.parse(publishAt)}`;

export function createPublicationQueue(settings: QueueSettings): PublicationQueue {
  const jobs = createBestEffortQueue<PublishJob>(PUBLICATION_QUEUE, settings);
  return {
    queue: jobs.queue,
    schedule: (releaseId, publishAt) =>
      jobs.addAt('publish', { releaseId, publishAt }, publishJobId(releaseId, publishAt), new Date(Date.parse(publishAt) - EARLY_MS).toISOString()),
    // A job left behind is harmless: it finds the release not due and does nothing.
    unschedule: (releaseId, publishAt) => jobs.remove(publishJobId(releaseId, publishAt)),
    onReady: jobs.onReady,
    isReady: jobs.isReady,
    ping: jobs.ping,
    close: jobs.close,
  };
}
