import type { AppContext } from '../context.js';
import type { RunningWorker } from '../lib/queue.js';
import { isoTime } from '../lib/time.js';
import { forgetBlobIfUnused, unusedBlobs } from './repository.js';

/*
 * Deleting an attachment (or a draft) never deletes a file: a concurrent upload of the
 * same bytes may be about to rely on it. This clean-up, in the worker role, deletes the
 * blobs that no attachment and no newsroom logo names once no upload has used them for
 * BLOB_GRACE_MS (a replaced logo's blob goes the same way). Each one is
 * checked again and its row deleted in the transaction that deletes its files: an
 * upload records its blob first in its own transaction, so the two never interleave.
 * Only blobs this database recorded are ever considered.
 */

/** How long an unused blob stays. */
export const BLOB_GRACE_MS = 60 * 60 * 1000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;
const BATCH = 100;

/** Deletes the blobs unused for the grace period; gives their hashes. */
export async function sweepUnusedBlobs(ctx: AppContext): Promise<string[]> {
  const usedBefore = isoTime(new Date(ctx.clock.now().getTime() - BLOB_GRACE_MS));
  const removed: string[] = [];
  for (;;) {
    const candidates = await unusedBlobs(ctx.db, usedBefore, BATCH);
    for (const sha256 of candidates) {
      const forgotten = await ctx.db.transaction().execute(async (trx) => {
        if (!(await forgetBlobIfUnused(trx, sha256, usedBefore))) return false;
        await ctx.files.removeBlob(sha256);
        return true;
      });
      if (forgotten) removed.push(sha256);
    }
    if (candidates.length < BATCH) break;
  }
  if (removed.length) ctx.logger.info({ blobs: removed.length }, 'unused blobs deleted');
  return removed;
}

export async function startBlobSweeper(ctx: AppContext): Promise<RunningWorker> {
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    running = sweepUnusedBlobs(ctx).catch((err) => ctx.logger.error({ err }, 'blob clean-up failed'));
  };
  const timer = setInterval(sweep, SWEEP_EVERY_MS);
  sweep();
  return {
    name: 'blob clean-up',
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
