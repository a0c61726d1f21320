import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { Request, Response } from 'express';
import Negotiator from 'negotiator';
import { matchesValidators } from '../lib/conditional.js';

/*
 * HTTP caching of public pages and feeds: a strong ETag from the bytes, Last-Modified
 * from public data only (see publicStamp), and 304 for a matching conditional request.
 * Rendered output is cached in the process under a key that includes the public stamp
 * read from the database, so a second web process never serves an embargo state the
 * database no longer has.
 *
 * Cache lifetime: `no-cache`, so every cache asks us again (with the validators) before
 * reusing an answer. The trade-off: each reuse costs a request to this service, answered
 * from the render cache with a 304 and no body. A max-age would spare that request but
 * either keep a list without a release for up to max-age after its publication time (the
 * embargo no longer exact), or, counting down to that time as it once did, tell everyone
 * when the next embargo lifts. One constant, never derived from what is scheduled,
 * announces nothing.
 *
 * Compression: each rendering is compressed once, with gzip and Brotli, when it is kept
 * (see `rendered`); a request gets the encoding its Accept-Encoding prefers (Brotli before
 * gzip when it takes both alike), each encoding with its own strong ETag, and `Vary:
 * Accept-Encoding` tells caches the answer depends on it. A 304 costs what it did: the
 * chosen encoding's ETag is already in the cache.
 */

/** How long a cache may reuse what follows from the configuration alone (robots.txt, redirects), in seconds. */
export const MAX_AGE_SECONDS = 60;

/** Every page and feed: reused only after asking us (see the top of this file). */
export const REVALIDATE = 'public, no-cache';

export interface Cacheable extends Compressed {
  body: string | Buffer;
  contentType: string;
  lastModified: Date;
  /** Seconds a cache may reuse it without asking: only for output that follows from the configuration alone. */
  maxAge?: number;
  status?: number;
  /** The strong ETag of `body` when already known (see `rendered`), to skip hashing it again. */
  etag?: string;
}

export const strongEtag = (body: string | Buffer) =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;

/** Bytes in one content coding, with their strong ETag. */
export interface Encoded {
  body: Buffer;
  etag: string;
}

/** The compressed forms of an output, when it was worth compressing. */
export interface Compressed {
  gzip?: Encoded;
  br?: Encoded;
}

/** Rendered output with its ETag and its compressed forms: the form worth keeping in a RenderCache. */
export interface Rendered extends Encoded, Compressed {}

/** Below this many bytes compression saves less than it costs (robots.txt, a short vCard). */
const COMPRESS_FROM_BYTES = 1024;
const gzipped = promisify(gzip);
const brotlied = promisify(brotliCompress);

/**
 * `body` with its gzip and Brotli forms. Brotli's quality 9 rather than its maximum 11:
 * within a few per cent of the size at a fraction of the time (a 200 KB feed in tens of
 * milliseconds rather than more than a second), and the work runs off the event loop.
 */
export async function compressed(body: Buffer): Promise<Compressed> {
  if (body.length < COMPRESS_FROM_BYTES) return {};
  const [gz, br] = await Promise.all([
    gzipped(body, { level: 9 }),
    brotlied(body, {
      params: {
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        [zlib.BROTLI_PARAM_QUALITY]: 9,
        [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
  ]);
  return { gzip: { body: gz, etag: strongEtag(gz) }, br: { body: br, etag: strongEtag(br) } };
}

/** Output to keep: its bytes, ETag and compressed forms, each computed once. */
export async function rendered(text: string | Buffer): Promise<Rendered> {
  const body = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { body, etag: strongEtag(body), ...(await compressed(body)) };
}

type Coding = 'br' | 'gzip' | 'identity';
// @types/negotiator describes 0.6; 1.x takes the server's order among encodings a client likes alike.
type EncodingNegotiator = { encoding(available: Coding[], options: { preferred: Coding[] }): Coding | undefined };

/** The coding to answer `req` in among those `page` has: the client's preference, Brotli first among equals. */
function codingFor(req: Request, page: Compressed): Coding {
  const available = (['br', 'gzip'] as const).filter((coding) => page[coding]);
  if (available.length === 0) return 'identity';
  const negotiator = new Negotiator(req) as unknown as EncodingNegotiator;
  // A client refusing even identity (identity;q=0) still gets it: a 406 helps nobody.
  return negotiator.encoding([...available, 'identity'], { preferred: ['br', 'gzip', 'identity'] }) ?? 'identity';
}

export function sendCacheable(req: Request, res: Response, page: Cacheable): void {
  const status = page.status ?? 200;
  const coding = codingFor(req, page);
  const sent: Encoded | Cacheable = coding === 'identity' ? page : page[coding]!;
  res.set({
    'Content-Type': page.contentType,
    ETag: sent.etag ?? strongEtag(sent.body),
    'Last-Modified': page.lastModified.toUTCString(),
    'Cache-Control': page.maxAge ? `public, max-age=${page.maxAge}` : REVALIDATE,
  });
  res.vary('Accept-Encoding');
  if (coding !== 'identity') res.set('Content-Encoding', coding);
  if (status === 200 && matchesValidators(req, res)) {
    res.status(304).end();
    return;
  }
  res.status(status).send(sent.body);
}

/** Rendered output by key, least recently used dropped first. */
export class RenderCache<V = string> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly capacity = 500) {}

  async get(key: string, render: () => Promise<V>): Promise<V> {
    const hit = this.peek(key);
    if (hit !== undefined) return hit;
    const value = await render();
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  /** Drops one entry: for output that goes stale by time rather than by data. */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /** The value under `key` if there is one (counts as a use). */
  peek(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  clear(): void {
    this.entries.clear();
  }
}
