import type { Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../lib/db/schema.js';
import type { RunningWorker } from '../lib/queue.js';
import { forgetBlobIfUnused, unusedBlobs, useBlob } from './repository.js';

/*
 * Deleting an attachment (or a draft) never deletes a file: a concurrent upload of the
 * same bytes may be about to rely on it. This clean-up, in the worker role, deletes the
 * blobs that no attachment and no newsroom logo names once no upload has used them for
 * BLOB_GRACE_MS (a replaced logo's blob goes the same way), in the database's clock, so
 * that a machine whose clock is off cannot cut the grace short. Each one is checked
 * again and its row deleted in the transaction that deletes its objects, holding the
 * row's lock until they are gone: an upload of the same bytes waits on that lock (see
 * storeBlob), then finds them missing and writes them again. Only blobs this database
 * recorded are ever considered.
 */

/** How long an unused blob stays. */
export const BLOB_GRACE_MS = 60 * 60 * 1000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;
const BATCH = 100;

/**
 * Keeps the bytes of the blob `sha256` (a local file's path, or the bytes; and an
 * image's rendition) and runs `record`, which names the blob, in a transaction. The
 * blob's row is refreshed first on its own, so that the clean-up leaves the bytes alone
 * from then on; the objects are written outside any transaction (a large upload to a
 * bucket takes a while); then, in the transaction, the row is refreshed again, taking
 * its lock, and the objects are checked under it (written again if the clean-up took
 * them meanwhile). Readers find the blob through `record`'s rows only, so they see it
 * once those commit, whole.
 */
export async function storeBlob<T>(
  ctx: AppContext,
  sha256: string,
  bytes: string | Uint8Array,
  rendition: Uint8Array | undefined,
  record: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  const { dialect } = ctx.store;
  await useBlob(ctx.db, dialect, sha256);
  await ctx.files.keepBlob(sha256, bytes, rendition);
  return ctx.db.transaction().execute(async (trx) => {
    await useBlob(trx, dialect, sha256);
    const recorded = await record(trx);
    await ctx.files.keepBlob(sha256, bytes, rendition);
    return recorded;
  });
}

/** Deletes the blobs unused for the grace period; gives their hashes. */
export async function sweepUnusedBlobs(ctx: AppContext): Promise<string[]> {
  const { dialect } = ctx.store;
  const removed: string[] = [];
  for (;;) {
    const candidates = await unusedBlobs(ctx.db, dialect, BLOB_GRACE_MS, BATCH);
    for (const sha256 of candidates) {
      const forgotten = await ctx.db.transaction().execute(async (trx) => {
        if (!(await forgetBlobIfUnused(trx, dialect, sha256, BLOB_GRACE_MS))) return false;
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
