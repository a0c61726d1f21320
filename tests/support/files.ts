import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { TestApp } from './app.js';

/*
 * What the file store holds, asked through its interface: the same on STORAGE_DIR and
 * on a bucket (the s3 project).
 */

export const hasBlob = async (t: TestApp, sha256: string) => (await t.ctx.files.objects.head(t.ctx.files.blobKey(sha256))) !== undefined;

export const hasRendition = async (t: TestApp, sha256: string) =>
  (await t.ctx.files.objects.head(t.ctx.files.renditionKey(sha256))) !== undefined;

/** How many blobs the store holds (whatever the database says). */
export async function storedBlobCount(t: TestApp): Promise<number> {
  let count = 0;
  for await (const _ of t.ctx.files.objects.list('blobs/')) count++;
  return count;
}

/** The local temp files of uploads (STORAGE_DIR/tmp, with a bucket too). */
export function tempFiles(t: TestApp): string[] {
  const dir = path.join(t.ctx.config.storageDir, 'tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * Moves every blob's last use `ms` back in the database: for the clean-up, which reads
 * the database's clock, as if that much time had passed.
 */
export async function ageBlobs(t: TestApp, ms: number): Promise<void> {
  const rows = await t.ctx.db.selectFrom('blobs').select(['sha256', 'used_at']).execute();
  for (const row of rows) {
    const usedAt = new Date(Date.parse(row.used_at) - ms).toISOString();
    await t.ctx.db.updateTable('blobs').set({ used_at: usedAt }).where('sha256', '=', row.sha256).execute();
  }
}
