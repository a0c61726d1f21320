import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
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
 */

/** How long a cache may reuse what follows from the configuration alone (robots.txt, redirects), in seconds. */
export const MAX_AGE_SECONDS = 60;

/** Every page and feed: reused only after asking us (see the top of this file). */
export const REVALIDATE = 'public, no-cache';

export interface Cacheable {
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

/** Rendered output with its ETag, the form worth keeping in a RenderCache. */
export interface Rendered {
  body: string;
  etag: string;
}

export const rendered = (body: string): Rendered => ({ body, etag: strongEtag(body) });

export function sendCacheable(req: Request, res: Response, page: Cacheable): void {
  const status = page.status ?? 200;
  res.set({
    'Content-Type': page.contentType,
    ETag: page.etag ?? strongEtag(page.body),
    'Last-Modified': page.lastModified.toUTCString(),
    'Cache-Control': page.maxAge ? `public, max-age=${page.maxAge}` : REVALIDATE,
  });
  if (status === 200 && matchesValidators(req, res)) {
    res.status(304).end();
    return;
  }
  res.status(status).send(page.body);
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
