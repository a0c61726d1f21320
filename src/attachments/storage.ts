import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { Config } from '../lib/config.js';
import { createLocalStore } from '../lib/storage/local.js';
import type { ObjectStore } from '../lib/storage/store.js';

/**
 * Attachment bytes, their web-size renditions and newsroom logos, kept in the object
 * store (STORAGE_DIR, or the bucket of STORAGE_URL) content-addressed by SHA-256: the
 * same file uploaded twice is stored once. Which blobs exist is recorded in the database
 * (table `blobs`); objects are deleted only by the clean-up in blobs.ts, never in a request.
 * Uploads wait in a local temp folder (STORAGE_DIR/tmp) while they are received and
 * checked, whichever the store.
 */
export interface FileStore {
  /** The store itself: for serving, copying and listing, by the keys below. */
  readonly objects: ObjectStore;
  blobKey(sha256: string): string;
  renditionKey(sha256: string): string;
  /** A fresh path for a local temp file, for an upload while it is received and checked. */
  tempPath(): Promise<string>;
  /**
   * Stores the blob `sha256` (from a local file's path, or the bytes) and its web-size
   * rendition, each unless the store has it already. Record the blob in the database
   * first (see storeBlob in blobs.ts).
   */
  keepBlob(sha256: string, bytes: string | Uint8Array, rendition?: Uint8Array): Promise<void>;
  /** Deletes a blob's objects (the original and its rendition); see blobs.ts for when. */
  removeBlob(sha256: string): Promise<void>;
  /** Deletes temp files left by uploads that a crash cut off. */
  removeStaleTemp(olderThanMs: number): Promise<void>;
  /** Fails, naming the setting, when files cannot be written: better at start than at the first upload. */
  checkWritable(): Promise<void>;
  /**
   * Marks the store as this database's (by its installation id) at first use, and fails,
   * naming the setting, when another database marked it: two databases sharing one store
   * would delete each other's files.
   */
  claim(installationId: string): Promise<void>;
}

/** The marker object in the store holding the id of the database that uses it. */
export const STORAGE_MARKER = 'newsroom-installation';

/** A small object written and deleted to see that the store takes writes. */
const WRITE_PROBE = 'tmp/write-probe';

/**
 * The store the configuration names: the bucket of STORAGE_URL, else the folder STORAGE_DIR.
 * The S3 client is loaded only for a bucket: on a folder it would be memory for nothing.
 */
export async function openFileStore(config: Pick<Config, 'storageDir' | 'storageBucket'>): Promise<FileStore> {
  const tempDir = path.join(config.storageDir, 'tmp');
  const objects = config.storageBucket
    ? (await import('../lib/storage/s3.js')).createS3Store(config.storageBucket)
    : createLocalStore(config.storageDir, tempDir);
  return createFileStore(objects, tempDir);
}

export function createFileStore(objects: ObjectStore, tempDir: string): FileStore {
  const { variable, place } = objects.location;
  const blobKey = (sha256: string) => `blobs/${sha256.slice(0, 2)}/${sha256}`;
  const renditionKey = (sha256: string) => `renditions/${sha256.slice(0, 2)}/${sha256}-web`;

  async function tempPath(): Promise<string> {
    await mkdir(tempDir, { recursive: true });
    return path.join(tempDir, `${randomUUID()}.part`);
  }

  /** An object that is there already holds the same bytes (the key is their hash): it stays as it is. */
  async function keep(key: string, body: () => Readable | Uint8Array): Promise<void> {
    if (!(await objects.head(key))) await objects.put(key, body());
  }

  return {
    objects,
    blobKey,
    renditionKey,
    tempPath,
    async keepBlob(sha256, bytes, rendition) {
      await Promise.all([
        keep(blobKey(sha256), () => (typeof bytes === 'string' ? createReadStream(bytes) : bytes)),
        rendition && keep(renditionKey(sha256), () => rendition),
      ]);
    },
    async removeBlob(sha256) {
      await objects.delete(blobKey(sha256));
      await objects.delete(renditionKey(sha256));
    },
    async checkWritable() {
      const why = (error: unknown) => (error as Error).message;
      try {
        // A few bytes, not an empty file: a full disk still has inodes but no blocks.
        const probe = await tempPath();
        await writeFile(probe, 'newsroom write probe\n');
        await rm(probe);
      } catch (error) {
        // With a bucket too, uploads wait in the folder while they are checked.
        throw new Error(`STORAGE_DIR: cannot write files under ${variable === 'STORAGE_DIR' ? place : tempDir}: ${why(error)}`);
      }
      try {
        await objects.put(WRITE_PROBE, Buffer.from('newsroom write probe\n'));
        await objects.delete(WRITE_PROBE);
      } catch (error) {
        throw new Error(`${variable}: cannot write files under ${place}: ${why(error)}`);
      }
    },
    async claim(installationId) {
      // Of two processes starting together, exactly one writes the marker; both read it back.
      await objects.put(STORAGE_MARKER, Buffer.from(`${installationId}\n`), { ifAbsent: true });
      const marker = await objects.get(STORAGE_MARKER);
      const owner = marker ? (await text(marker.body)).trim() : undefined;
      if (owner !== installationId) {
        throw new Error(
          `${variable}: ${place} holds the files of another database (installation ${owner}); this DATABASE_URL is installation ${installationId}. ` +
            `Give each database its own ${variable} (or restore the database that goes with these files).`,
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
