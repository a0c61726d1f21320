import pLimit from 'p-limit';
import type { Db } from '../lib/db/database.js';
import { digesting, sha256Of } from '../lib/storage/digest.js';
import { recordedBlobs } from './repository.js';
import type { FileStore } from './storage.js';

/*
 * Moving an installation's files to another store (`npm run storage:copy`): every blob
 * the database records, and its rendition, is copied and read back from the target to
 * check its SHA-256. What the target already holds with the right hash stays as it is,
 * so a run cut off, or run again after the service was stopped, only does what is left.
 */

export interface CopySummary {
  /** Blobs the database records. */
  blobs: number;
  copied: { blobs: number; renditions: number };
  /** Found in the target with the right hash, so left as they were. */
  alreadyThere: { blobs: number; renditions: number };
  /** Not in the source: `named` are named by an attachment or logo (lost before the copy), the rest by nothing. */
  missing: { named: string[]; unnamed: string[] };
  /** Keys whose bytes did not have the hash they must have, in the source or read back from the target. */
  mismatched: string[];
  /** Blobs in the source that the database does not record (another database's, or left by a crash): not copied. */
  unrecorded: number;
}

/** Copies at most this many objects at a time. */
const CONCURRENCY = 8;

type Outcome = 'copied' | 'there' | 'missing' | 'mismatch';

/**
 * Copies one object to the target unless it is there with the hash its bytes must have:
 * `expected` for a blob (its name), the source's bytes' for a rendition.
 */
async function copyObject(from: FileStore, to: FileStore, key: string, expected: string | undefined): Promise<Outcome> {
  let want = expected;
  if (want === undefined) {
    const source = await from.objects.get(key);
    if (!source) return 'missing';
    want = await sha256Of(source.body);
  }
  const present = await to.objects.get(key);
  if (present && (await sha256Of(present.body)) === want) return 'there';
  const source = await from.objects.get(key);
  if (!source) return 'missing';
  const measure = digesting();
  source.body.on('error', (error) => measure.stream.destroy(error));
  await to.objects.put(key, source.body.pipe(measure.stream));
  if (measure.result().sha256 !== want) {
    // The source is not what the database says it is: leave no wrong copy behind.
    await to.objects.delete(key);
    return 'mismatch';
  }
  const copy = await to.objects.get(key);
  return copy && (await sha256Of(copy.body)) === want ? 'copied' : 'mismatch';
}

export async function copyFiles(db: Db, from: FileStore, to: FileStore, onProgress?: (done: number, total: number) => void): Promise<CopySummary> {
  const blobs = await recordedBlobs(db);
  const summary: CopySummary = {
    blobs: blobs.length,
    copied: { blobs: 0, renditions: 0 },
    alreadyThere: { blobs: 0, renditions: 0 },
    missing: { named: [], unnamed: [] },
    mismatched: [],
    unrecorded: 0,
  };
  const limit = pLimit(CONCURRENCY);
  let done = 0;
  await Promise.all(
    blobs.map(({ sha256, named }) =>
      limit(async () => {
        const blobKey = from.blobKey(sha256);
        const blob = await copyObject(from, to, blobKey, sha256);
        if (blob === 'copied') summary.copied.blobs++;
        else if (blob === 'there') summary.alreadyThere.blobs++;
        else if (blob === 'mismatch') summary.mismatched.push(blobKey);
        else (named ? summary.missing.named : summary.missing.unnamed).push(sha256);
        if (blob === 'copied' || blob === 'there') {
          // Only images have one; its absence from the source is nothing to report.
          const renditionKey = from.renditionKey(sha256);
          const rendition = await copyObject(from, to, renditionKey, undefined);
          if (rendition === 'copied') summary.copied.renditions++;
          else if (rendition === 'there') summary.alreadyThere.renditions++;
          else if (rendition === 'mismatch') summary.mismatched.push(renditionKey);
        }
        onProgress?.(++done, blobs.length);
      }),
    ),
  );
  const recorded = new Set(blobs.map((b) => from.blobKey(b.sha256)));
  for await (const object of from.objects.list('blobs/')) if (!recorded.has(object.key)) summary.unrecorded++;
  return summary;
}
