import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { PublicStamp } from '../releases/public.js';

/*
 * HTTP caching of public pages and feeds. A strong ETag from the bytes, Last-Modified
 * from the data, 304 for a matching conditional request, and a max-age that never
 * reaches past the next scheduled publication (a list cached past it would hide a
 * release that is public). Rendered output is cached in the process under a key that
 * includes the public stamp read from the database, so a second web process never
 * serves an embargo state the database no longer has.
 */

/** The longest any public page or feed may be reused by a cache, in seconds. */
export const MAX_AGE_SECONDS = 60;

export interface Cacheable {
  body: string | Buffer;
  contentType: string;
  lastModified: Date;
  /** Seconds a shared cache may reuse it; 0 for no reuse without revalidation. */
  maxAge: number;
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

/** Seconds until `stamp`'s next publication, capped: how long what it describes stays true. */
export function maxAgeUntilNextPublication(stamp: PublicStamp, now: Date, cap = MAX_AGE_SECONDS): number {
  if (!stamp.nextPublication) return cap;
  const seconds = Math.floor((stamp.nextPublication.getTime() - now.getTime()) / 1000);
  return Math.max(0, Math.min(cap, seconds));
}

export function sendCacheable(req: Request, res: Response, page: Cacheable): void {
  const status = page.status ?? 200;
  res.set({
    'Content-Type': page.contentType,
    ETag: page.etag ?? strongEtag(page.body),
    'Last-Modified': page.lastModified.toUTCString(),
    'Cache-Control': page.maxAge > 0 ? `public, max-age=${page.maxAge}` : 'public, no-cache',
  });
  res.status(status);
  if (status === 200 && req.fresh) {
    res.status(304).end();
    return;
  }
  res.send(page.body);
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
