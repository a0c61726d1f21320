import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../lib/db/database.js';

/**
 * Attachment bytes live in STORAGE_DIR, content-addressed by SHA-256: the same file
 * uploaded twice is stored once, and a blob goes when no attachment names it.
 */
export interface FileStore {
  readonly root: string;
  blobPath(sha256: string): string;
  renditionPath(sha256: string): string;
  /** Deletes the blobs among these that no attachment refers to any more. */
  forgetUnused(sha256s: readonly string[]): Promise<void>;
}

export function createFileStore(root: string, db: Db): FileStore {
  const blobPath = (sha256: string) => path.join(root, 'blobs', sha256.slice(0, 2), sha256);
  const renditionPath = (sha256: string) => path.join(root, 'renditions', sha256.slice(0, 2), `${sha256}-web`);
  return {
    root,
    blobPath,
    renditionPath,
    async forgetUnused(sha256s) {
      for (const sha256 of new Set(sha256s)) {
        const used = await db.selectFrom('attachments').select('id').where('sha256', '=', sha256).executeTakeFirst();
        if (used) continue;
        await rm(blobPath(sha256), { force: true });
        await rm(renditionPath(sha256), { force: true });
      }
    },
  };
}
