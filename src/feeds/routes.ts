import { type Request, type Response, Router } from 'express';
import type { AppContext } from '../context.js';
import { notFound } from '../lib/errors.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import { currentPublicStamp } from '../releases/public.js';
import { MAX_AGE_SECONDS, sendCacheable } from '../site/cache.js';
import { LANGUAGE_SEGMENT, missing, output, outputSender } from '../site/output.js';
import { contentTypes, hubLinkHeader, writers } from './current.js';
import { buildFeedView, feedFormats, type FeedView } from './items.js';
import { renderSitemap, robotsTxt } from './sitemap.js';

/*
 * Feeds (RSS, Atom, JSON Feed) of a newsroom, of a keyword and of all newsrooms, the
 * sitemap and robots.txt, each rendered once per public stamp (see site/output.ts).
 */

const KEYWORD_MAX = 60; // the longest keyword the API takes

export function feedRoutes(ctx: AppContext): Router {
  const router = Router();
  const { newsroomIdOf, send } = outputSender(ctx);

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
      return output(sitemap.xml, Number.isFinite(sitemap.staleAt) ? { staleAt: sitemap.staleAt } : {});
    });
  });

  for (const format of feedFormats) {
    const write = (view: FeedView) => output(writers[format](view));

    router.get(`/${format}`, async (req, res) => {
      res.setHeader('Link', hubLinkHeader(ctx.config.publicUrl, format, {}));
      const stamp = await currentPublicStamp(ctx);
      await send(req, res, contentTypes[format], `${format}|all`, stamp, async () =>
        write(await buildFeedView(ctx, { kind: 'all' }, stamp)),
      );
    });

    const newsroomFeed = async (req: Request, res: Response, keyword?: string) => {
      const { slug, lang } = req.params as { slug: string; lang: string };
      if (!LANGUAGE_SEGMENT.test(lang) || (keyword !== undefined && keyword.length > KEYWORD_MAX)) throw notFound('Feed');
      const newsroomId = await newsroomIdOf(slug);
      res.setHeader('Link', hubLinkHeader(ctx.config.publicUrl, format, { newsroomSlug: slug, lang, keyword }));
      const stamp = await currentPublicStamp(ctx, newsroomId);
      const key = `${format}|${newsroomId}|${lang}|${keyword ?? ''}`;
      await send(req, res, contentTypes[format], key, stamp, async () => {
        const newsroom = await findNewsroomById(ctx.db, newsroomId);
        if (!newsroom?.languages.includes(lang)) return missing('Feed');
        const scope = keyword === undefined ? { kind: 'newsroom' as const, newsroom, lang } : { kind: 'keyword' as const, newsroom, lang, keyword };
        return write(await buildFeedView(ctx, scope, stamp));
      });
    };
    router.get(`/:slug/:lang/${format}`, (req, res) => newsroomFeed(req, res));
    router.get(`/:slug/:lang/keyword/:keyword/${format}`, (req, res) => newsroomFeed(req, res, req.params.keyword!.toLowerCase()));
  }

  return router;
}
