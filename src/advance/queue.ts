import { type BestEffortQueue, createBestEffortQueue, type QueueSettings } from '../lib/queue.js';

export const ADVANCE_QUEUE = 'advance';

export interface AdvanceJob {
  releaseId: string;
  /** Jobs named `update`: the advance update whose emails to send (advance/updates.ts). */
  updateId?: string;
}

/**
 * Delayed jobs that send a release's personal advance links at the time its advance
 * access opens, and jobs that send an "updated before publication" at once. Derived from
 * the database (advance_access, advance_update_emails) and rebuilt by the worker; its
 * sweep sends whatever a lost job would have.
 */
export interface AdvanceQueue {
  readonly queue: BestEffortQueue<AdvanceJob>['queue'];
  /** Best effort: with Redis away this logs and returns. */
  schedule(releaseId: string, opensAt: string): Promise<void>;
  /** Sends an advance update's emails now (best effort too: the sweep sends what Redis lost). */
  sendUpdate(releaseId: string, updateId: string): Promise<void>;
  onReady(listener: () => void): void;
  isReady(): boolean;
  close(): Promise<void>;
}

/** BullMQ job ids may not contain ':'. One id per release and time makes adding idempotent. */
export const advanceJobId = (releaseId: string, opensAt: string) => `advance-${releaseId}-${Date.parse(opensAt)}`;

export function createAdvanceQueue(settings: QueueSettings): AdvanceQueue {
  const jobs = createBestEffortQueue<AdvanceJob>(ADVANCE_QUEUE, settings);
  return {
    queue: jobs.queue,
    // A job whose time was moved is left behind harmlessly: it finds nothing due, or sends early what is due anyway.
    schedule: (releaseId, opensAt) => jobs.addAt('open', { releaseId }, advanceJobId(releaseId, opensAt), opensAt),
    sendUpdate: (releaseId, updateId) => jobs.addAt('update', { releaseId, updateId }, `update-${updateId}`, new Date().toISOString()),
    onReady: jobs.onReady,
    isReady: jobs.isReady,
    close: jobs.close,
  };
}
