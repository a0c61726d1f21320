import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { BucketLocation, ObjectStore } from './store.js';

/** A request that has not started answering by then is given up (and retried by the SDK). */
const FIRST_BYTE_TIMEOUT_MS = 15_000;

/*
 * Downloads are streamed to clients through the service, each holding a connection to
 * the bucket while it lasts: the SDK's default of 50 would queue the 51st download.
 */
const MAX_SOCKETS = 512;

/** No such object (a missing bucket is NoSuchBucket on GET: an error, not a 404 to pass on). */
const notThere = (error: unknown) => error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.name === 'NotFound');

/** An abort signal that fires if no answer has begun within FIRST_BYTE_TIMEOUT_MS. */
function firstByteTimeout(): { abortSignal: AbortSignal; answered(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer from the bucket within ${FIRST_BYTE_TIMEOUT_MS / 1000} s`)), FIRST_BYTE_TIMEOUT_MS);
  return { abortSignal: controller.signal, answered: () => clearTimeout(timer) };
}

/** Runs one request with FIRST_BYTE_TIMEOUT_MS on it. */
async function timed<T>(send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = firstByteTimeout();
  try {
    return await send(timeout.abortSignal);
  } finally {
    timeout.answered();
  }
}

/**
 * A bucket of S3 or an S3-compatible server as the store. Region and credentials come
 * from the SDK's own sources (AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
 * profiles, instance roles...). Checksums only where the API requires them: the SDK's
 * default since 3.729 sends headers that several S3-compatible servers refuse.
 */
export function createS3Store({ bucket, prefix, endpoint }: BucketLocation): ObjectStore {
  const client = new S3Client({
    // A custom endpoint (MinIO, Garage, SeaweedFS, moto) seldom has per-bucket host names.
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: 5000,
      httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    },
  });
  const Bucket = bucket;
  const keyOf = (key: string) => prefix + key;

  async function head(key: string) {
    try {
      const answer = await timed((abortSignal) => client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) }), { abortSignal }));
      return { key, size: answer.ContentLength ?? 0 };
    } catch (error) {
      if (notThere(error)) return undefined;
      throw error;
    }
  }

  return {
    location: { variable: 'STORAGE_URL', place: `s3://${bucket}/${prefix}` },
    async put(key, body, options = {}) {
      const params = { Bucket, Key: keyOf(key) };
      if (options.ifAbsent) {
        // For small objects (the installation marker): one conditional PUT, which exactly one writer wins.
        // Some S3-compatible servers ignore If-None-Match: look first, so that those at
        // least never overwrite an object that is there.
        if (await head(key)) return false;
        // A plain PUT needs the length: the bytes in hand.
        const bytes = body instanceof Uint8Array ? body : Buffer.concat(await (body as Readable).toArray());
        try {
          await timed((abortSignal) => client.send(new PutObjectCommand({ ...params, Body: bytes, IfNoneMatch: '*' }), { abortSignal }));
          return true;
        } catch (error) {
          const status = (error as S3ServiceException).$metadata?.httpStatusCode;
          if (status === 412 || status === 409) return false;
          throw error;
        }
      }
      // Streams in parts (a multipart upload above 5 MB, completed only when whole, and
      // aborted on failure), never holding more than a few parts in memory.
      await new Upload({ client, params: { ...params, Body: body } }).done();
      return true;
    },
    async get(key, range) {
      const timeout = firstByteTimeout();
      try {
        const answer = await client.send(
          new GetObjectCommand({ Bucket, Key: keyOf(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
          { abortSignal: timeout.abortSignal },
        );
        // "bytes 0-99/1234": the whole object's size follows the slash.
        const size = range ? Number(answer.ContentRange?.split('/')[1]) : answer.ContentLength;
        if (!answer.Body || size === undefined || !Number.isFinite(size)) throw new Error(`s3://${bucket}/${keyOf(key)}: the bucket gave no size`);
        return { body: answer.Body as Readable, size };
      } catch (error) {
        if (notThere(error)) return undefined;
        throw error;
      } finally {
        timeout.answered();
      }
    },
    head,
    async delete(key) {
      await timed((abortSignal) => client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }), { abortSignal }));
    },
    async *list(listPrefix) {
      for await (const page of paginateListObjectsV2({ client }, { Bucket, Prefix: keyOf(listPrefix) })) {
        for (const object of page.Contents ?? []) {
          if (object.Key) yield { key: object.Key.slice(prefix.length), size: object.Size ?? 0 };
        }
      }
    },
  };
}
