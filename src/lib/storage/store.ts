import type { Readable } from 'node:stream';

/*
 * Where files live: one small interface, two implementations (a local folder, an
 * S3-compatible bucket). Callers name objects by key (`blobs/ab/ab12...`), never by
 * path or URL, and never learn which store they have.
 */

export interface ObjectInfo {
  key: string;
  /** In bytes. */
  size: number;
}

/** Bytes `start` to `end` of an object, both included (as HTTP ranges count). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObject {
  /** The object's bytes, or the range asked for. */
  body: Readable;
  /** The size of the whole object, in bytes. */
  size: number;
}

export interface ObjectStore {
  /** For messages: the setting that chose the store, and the folder or bucket URL. */
  readonly location: { variable: 'STORAGE_DIR' | 'STORAGE_URL'; place: string };
  /**
   * Stores the bytes under `key`, whole or not at all: nobody ever reads a part. With
   * `ifAbsent` (meant for small objects), an existing object is left as it is and the
   * answer is false.
   */
  put(key: string, body: Readable | Uint8Array, options?: { ifAbsent?: boolean }): Promise<boolean>;
  /** The object's bytes, or a range of them; undefined when there is no such object. */
  get(key: string, range?: ByteRange): Promise<StoredObject | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Deletes the object; nothing to do when it is not there. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
}

/** Where STORAGE_URL points: a bucket and a key prefix ('' or ending in '/'). */
export interface BucketLocation {
  bucket: string;
  prefix: string;
  /** AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL): an S3-compatible server, addressed path-style. */
  endpoint: string | undefined;
}

/** S3's own rule for bucket names, so that a typo is caught at start, not at the first upload. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Reads `s3://BUCKET[/PREFIX]`; throws a message (without the variable's name) saying
 * what is wrong with it.
 */
export function parseBucketUrl(value: string): Omit<BucketLocation, 'endpoint'> {
  const match = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(value);
  if (!match) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
    throw new Error(scheme && scheme.toLowerCase() !== 's3'
      ? `has the scheme "${scheme}:"; it must be s3://BUCKET[/PREFIX] (the endpoint comes from AWS_ENDPOINT_URL_S3)`
      : 'must be s3://BUCKET[/PREFIX]');
  }
  const bucket = match[1]!;
  if (!bucket) throw new Error('names no bucket: it must be s3://BUCKET[/PREFIX]');
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new Error(`names the bucket "${bucket}", which is not a bucket name (3-63 lowercase letters, digits, dots and hyphens)`);
  }
  const parts = (match[2] ?? '').split('/').filter(Boolean);
  if (parts.some((part) => part === '.' || part === '..')) throw new Error('has "." or ".." in its prefix');
  return { bucket, prefix: parts.length ? `${parts.join('/')}/` : '' };
}
