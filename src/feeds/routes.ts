import { type Request, type Response, Router } from 'express';
import type { AppContext } from '../context.js';
import { notFound } from '../lib/errors.js';
import { findNewsroomById, findNewsroomBySlug } from '../newsrooms/repository.js';
import { currentPublicStamp, type PublicStamp } from '../releases/public.js';
import { MAX_AGE_SECONDS, RenderCache, sendCacheable, strongEtag } from '../site/cache.js';
import { renderAtom } from './atom.js';
import { buildFeedView, type FeedFormat, feedFormats, type FeedView } from './items.js';
import { renderJsonFeed } from './json.js';
import { renderRss } from './rss.js';
import { renderSitemap, robotsTxt } from './sitemap.js';

/*
 * Feeds (RSS, Atom, JSON Feed) of a newsroom, of a keyword and of all newsrooms, the
 * sitemap and robots.txt. Each answer is rendered once per public stamp and kept in the
 * process; the stamp is read from the database on every request, so a second process
 * never serves an embargo state the database no longer has.
 */

const writers: Record<FeedFormat, (view: FeedView) => string> = {
  'rss.xml': renderRss,
  'atom.xml': renderAtom,
  'feed.json': renderJsonFeed,
};

const contentTypes: Record<FeedFormat, string> = {
  'rss.xml': 'application/rss+xml; charset=utf-8',
  'atom.xml': 'application/atom+xml; charset=utf-8',
  'feed.json': 'application/feed+json; charset=utf-8',
};

/** Bytes and their ETag, computed once per rendering; or the scope turned out not to exist. */
type Rendered = { body: Buffer; etag: string; staleAt?: number } | { missing: true };

const LANGUAGE = /^[a-z]{2}$/;
const KEYWORD_MAX = 60; // the longest keyword the API takes

const rendered = (text: string | Buffer, staleAt?: number): Rendered => {
  const body = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { body, etag: strongEtag(body), ...(staleAt !== undefined ? { staleAt } : {}) };
};

export function feedRoutes(ctx: AppContext): Router {
  const router = Router();
  const cache = new RenderCache<Rendered>();
  // Slugs never change and newsrooms are never deleted: a slug, once found, names its id for good.
  const newsroomIds = new Map<string, string>();

  async function newsroomIdOf(slug: string): Promise<string> {
    const known = newsroomIds.get(slug);
    if (known) return known;
    const newsroom = await findNewsroomBySlug(ctx.db, slug);
    if (!newsroom) throw notFound('Newsroom');
    newsroomIds.set(slug, newsroom.id);
    return newsroom.id;
  }

  /** The cached rendering for `key` under `stamp`, sent with its validators (see site/cache.ts for how long caches keep it). */
  async function send(
    req: Request,
    res: Response,
    contentType: string,
    key: string,
    stamp: PublicStamp,
    render: () => Promise<Rendered>,
  ): Promise<void> {
    const now = ctx.clock.now().getTime();
    const cacheKey = `${key}|${stamp.version}`;
    let output = await cache.get(cacheKey, render);
    if ('staleAt' in output && output.staleAt! <= now) {
      cache.delete(cacheKey);
      output = await cache.get(cacheKey, render);
    }
    if ('missing' in output) throw notFound('Feed');
    sendCacheable(req, res, { body: output.body, etag: output.etag, contentType, lastModified: stamp.lastModified });
  }

  router.get('/robots.txt', (req, res) => {
    sendCacheable(req, res, {
      body: robotsTxt(ctx.config.publicUrl),
      contentType: 'text/plain; charset=utf-8',
      lastModified: new Date(0), // it follows from the configuration alone
      maxAge: MAX_AGE_SECONDS,
    });
  });

  router.get('/sitemap.xml', async (req, res) => {
    const stamp = await currentPublicStamp(ctx);
    await send(req, res, 'application/xml', 'sitemap', stamp, async () => {
      const sitemap = await renderSitemap(ctx, stamp);
      return rendered(sitemap.xml, Number.isFinite(sitemap.staleAt) ? sitemap.staleAt : undefined);
    });
  });

  for (const format of feedFormats) {
    const write = (view: FeedView) => rendered(writers[format](view));

    router.get(`/${format}`, async (req, res) => {
      const stamp = await currentPublicStamp(ctx);
      await send(req, res, contentTypes[format], `${format}|all`, stamp, async () =>
        write(await buildFeedView(ctx, { kind: 'all' }, stamp)),
      );
    });

    const newsroomFeed = async (req: Request, res: Response, keyword?: string) => {
      const { slug, lang } = req.params as { slug: string; lang: string };
      if (!LANGUAGE.test(lang) || (keyword !== undefined && keyword.length > KEYWORD_MAX)) throw notFound('Feed');
      const newsroomId = await newsroomIdOf(slug);
      const stamp = await currentPublicStamp(ctx, newsroomId);
      const key = `${format}|${newsroomId}|${lang}|${keyword ?? ''}`;
      await send(req, res, contentTypes[format], key, stamp, async () => {
        const newsroom = await findNewsroomById(ctx.db, newsroomId);
        if (!newsroom?.languages.includes(lang)) return { missing: true };
        const scope = keyword === undefined ? { kind: 'newsroom' as const, newsroom, lang } : { kind: 'keyword' as const, newsroom, lang, keyword };
        return write(await buildFeedView(ctx, scope, stamp));
      });
    };
    router.get(`/:slug/:lang/${format}`, (req, res) => newsroomFeed(req, res));
    router.get(`/:slug/:lang/keyword/:keyword/${format}`, (req, res) => newsroomFeed(req, res, req.params.keyword!.toLowerCase()));
  }

  return router;
}
