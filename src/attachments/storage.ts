import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Attachment bytes live in STORAGE_DIR, content-addressed by SHA-256: the same file
 * uploaded twice is stored once. Which blobs exist is recorded in the database (table
 * `blobs`); files are deleted only by the clean-up in blobs.ts, never in a request.
 */
export interface FileStore {
  readonly root: string;
  blobPath(sha256: string): string;
  renditionPath(sha256: string): string;
  /** A fresh path for a temp file inside the store, so that keeping the file is a rename. */
  tempPath(): Promise<string>;
  /** Moves a complete temp file into place as the blob of `sha256`. */
  keepBlob(tempPath: string, sha256: string): Promise<void>;
  /** Stores the web-size rendition made from the blob `sha256`. */
  keepRendition(sha256: string, data: Uint8Array): Promise<void>;
  /** Deletes the files of a blob (the original and its rendition); see blobs.ts for when. */
  removeBlob(sha256: string): Promise<void>;
  /** Deletes temp files left by uploads that a crash cut off. */
  removeStaleTemp(olderThanMs: number): Promise<void>;
  /** Fails, naming STORAGE_DIR, when files cannot be written there: better at start than at the first upload. */
  checkWritable(): Promise<void>;
  /**
   * Marks the folder as this database's (by its installation id) at first use, and fails,
   * naming STORAGE_DIR, when another database marked it: two databases sharing one folder
   * would delete each other's files.
   */
  claim(installationId: string): Promise<void>;
}

/** The marker file in STORAGE_DIR holding the id of the database that uses it. */
export const STORAGE_MARKER = 'newsroom-installation';

const exists = (file: string) => stat(file).then(
  () => true,
  (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return false;
    throw error;
  },
);

export function createFileStore(root: string): FileStore {
  const blobPath = (sha256: string) => path.join(root, 'blobs', sha256.slice(0, 2), sha256);
  const renditionPath = (sha256: string) => path.join(root, 'renditions', sha256.slice(0, 2), `${sha256}-web`);
  const tempDir = path.join(root, 'tmp');

  /*
   * Files appear by rename only, so nobody reads one half-written. A target that exists
   * already holds the same bytes: it is left as it is (its mtime, and so its ETag, stay).
   */
  async function keep(tempPath: string, target: string): Promise<void> {
    if (await exists(target)) {
      await rm(tempPath, { force: true });
      return;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(tempPath, target);
  }

  async function tempPath(): Promise<string> {
    await mkdir(tempDir, { recursive: true });
    return path.join(tempDir, `${randomUUID()}.part`);
  }

  return {
    root,
    blobPath,
    renditionPath,
    tempPath,
    keepBlob: (temp, sha256) => keep(temp, blobPath(sha256)),
    async keepRendition(sha256, data) {
      const temp = await tempPath();
      try {
        await writeFile(temp, data);
        await keep(temp, renditionPath(sha256));
      } finally {
        await rm(temp, { force: true });
      }
    },
    async removeBlob(sha256) {
      await rm(blobPath(sha256), { force: true });
      await rm(renditionPath(sha256), { force: true });
    },
    async checkWritable() {
      try {
        const probe = await tempPath();
        // A few bytes, not an empty file: a full disk still has inodes but no blocks.
        await writeFile(probe, 'newsroom write probe\n');
        await rm(probe);
      } catch (error) {
        throw new Error(`STORAGE_DIR: cannot write files under ${root}: ${(error as Error).message}`);
      }
    },
    async claim(installationId) {
      const marker = path.join(root, STORAGE_MARKER);
      // Written aside, then linked into place: two processes starting together agree on one.
      const temp = await tempPath();
      await writeFile(temp, `${installationId}\n`);
      await link(temp, marker).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      }).finally(() => rm(temp, { force: true }));
      const owner = (await readFile(marker, 'utf8')).trim();
      if (owner !== installationId) {
        throw new Error(
          `STORAGE_DIR: ${root} holds the files of another database (installation ${owner}); this DATABASE_URL is installation ${installationId}. ` +
            `Give each database its own STORAGE_DIR (or restore the database that goes with these files).`,
        );
      }
    },
    async removeStaleTemp(olderThanMs) {
      const names = await readdir(tempDir).catch(() => [] as string[]);
      const cutoff = Date.now() - olderThanMs;
      for (const name of names) {
        const file = path.join(tempDir, name);
        // Another process may be writing a fresh one right now: only old files go.
        const info = await stat(file).catch(() => undefined);
        if (info && info.mtimeMs < cutoff) await rm(file, { force: true });
      }
    },
  };
}
