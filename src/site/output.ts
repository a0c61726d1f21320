import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { gone, notFound } from '../lib/errors.js';
import { findNewsroomBySlug } from '../newsrooms/repository.js';
import type { PublicStamp } from '../releases/public.js';
import { type Compressed, compressed, RenderCache, sendCacheable, strongEtag } from './cache.js';

/*
 * The machine-readable public outputs (feeds, sitemap, ninjs, calendars): each answer is
 * rendered once per public stamp and kept in the process; the stamp is read from the
 * database on every request, so a second process never serves an embargo state the
 * database no longer has.
 */

/** Path segments of the public URL layout: a language code; an id (of a release, a contact). */
export const LANGUAGE_SEGMENT = /^[a-z]{2}$/;
export const ID_SEGMENT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Bytes and their ETag, computed once per rendering (and compressed once when kept, see
 * outputSender); or the thing asked for turned out not to exist (404), or to be a
 * withdrawn release (410).
 */
export type Output =
  | {
      body: Buffer;
      etag: string;
      /** When it goes stale by time rather than by data (ms since the epoch). */
      staleAt?: number;
      /** 200 unless said (a withdrawn release's canceled ninjs is a 410). */
      status?: number;
      /** Sent with it, e.g. a Content-Disposition. */
      headers?: Record<string, string>;
    } & Compressed
  | { missing: true; what: string; withdrawn?: boolean };

export const output = (
  text: string | Buffer,
  options: { staleAt?: number; status?: number; headers?: Record<string, string> } = {},
): Output => {
  const body = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { body, etag: strongEtag(body), ...options };
};

export const missing = (what: string): Output => ({ missing: true, what });
export const withdrawn = (): Output => ({ missing: true, what: 'Release', withdrawn: true });

export interface OutputSender {
  /** The id of the newsroom of `slug`; 404 when there is none. */
  newsroomIdOf(slug: string): Promise<string>;
  /**
   * The cached rendering for `key` under `stamp` (rendered now if there is none, or if it
   * went stale), sent with its validators (see site/cache.ts for how long caches keep it).
   */
  send(req: Request, res: Response, contentType: string, key: string, stamp: PublicStamp, render: () => Promise<Output>): Promise<void>;
}

export function outputSender(ctx: AppContext): OutputSender {
  const cache = new RenderCache<Output>();
  /** The rendering with its compressed forms: made once, when it is kept. */
  const renderCompressed = async (render: () => Promise<Output>): Promise<Output> => {
    const out = await render();
    return 'missing' in out ? out : { ...out, ...(await compressed(out.body)) };
  };
  // Slugs never change and newsrooms are never deleted: a slug, once found, names its id for good.
  const newsroomIds = new Map<string, string>();

  return {
    async newsroomIdOf(slug) {
      const known = newsroomIds.get(slug);
      if (known) return known;
      const newsroom = await findNewsroomBySlug(ctx.db, slug);
      if (!newsroom) throw notFound('Newsroom');
      newsroomIds.set(slug, newsroom.id);
      return newsroom.id;
    },

    async send(req, res, contentType, key, stamp, render) {
      const now = ctx.clock.now().getTime();
      const cacheKey = `${key}|${stamp.version}`;
      let out = await cache.get(cacheKey, () => renderCompressed(render));
      if ('staleAt' in out && out.staleAt! <= now) {
        cache.delete(cacheKey);
        out = await cache.get(cacheKey, () => renderCompressed(render));
      }
      if ('missing' in out) {
        // An embargoed release is missing too: no cache may keep that past its time.
        res.set('Cache-Control', 'no-store');
        throw out.withdrawn ? gone('This release has been withdrawn.') : notFound(out.what);
      }
      if (out.headers) res.set(out.headers);
      sendCacheable(req, res, { ...out, contentType, lastModified: stamp.lastModified });
    },
  };
}
