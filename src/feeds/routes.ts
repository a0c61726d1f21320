import { type Request, type Response, Router } from 'express';
import type { AppContext } from '../context.js';
import { notFound } from '../lib/errors.js';
import { findNewsroomById, findNewsroomBySlug } from '../newsrooms/repository.js';
import { currentPublicStamp } from '../releases/public.js';
import { MAX_AGE_SECONDS, sendCacheable } from '../site/cache.js';
import { LANGUAGE_SEGMENT, missing, output, outputSender } from '../site/output.js';
import { renderAtom } from './atom.js';
import { websubHubUrl } from '../site/urls.js';
import { buildFeedView, type FeedAddress, type FeedFormat, feedFormats, feedUrl, type FeedView } from './items.js';
import { renderJsonFeed } from './json.js';
import { renderRss } from './rss.js';
import { renderSitemap, robotsTxt } from './sitemap.js';

/*
 * Feeds (RSS, Atom, JSON Feed) of a newsroom, of a keyword and of all newsrooms, the
 * sitemap and robots.txt, each rendered once per public stamp (see site/output.ts).
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

const KEYWORD_MAX = 60; // the longest keyword the API takes

/** WebSub discovery in HTTP: the hub and the feed's own URL (the topic), as the feed itself names them. */
const hubLinkHeader = (base: string, format: FeedFormat, address: FeedAddress) =>
  `<${websubHubUrl(base)}>; rel="hub", <${feedUrl(base, format, address)}>; rel="self"`;

export interface FeedDocument {
  body: string;
  contentType: string;
  /** The Link header of the feed's response (hub and self). */
  link: string;
}

/**
 * A feed as it stands now, for WebSub content distribution: the same document a reader
 * gets from the feed's URL. Undefined when the newsroom or its language is gone.
 */
/** Feeds rendered for distribution, by format, address and public stamp: one render serves every subscriber of a feed. */
const distributed = new Map<string, Promise<FeedDocument | undefined>>();
const DISTRIBUTED_KEPT = 200;

export async function currentFeed(ctx: AppContext, format: FeedFormat, address: FeedAddress): Promise<FeedDocument | undefined> {
  const base = ctx.config.publicUrl;
  const newsroom = address.newsroomSlug === undefined ? undefined : await findNewsroomBySlug(ctx.db, address.newsroomSlug);
  if (address.newsroomSlug !== undefined && !newsroom?.languages.includes(address.lang)) return undefined;
  const stamp = await currentPublicStamp(ctx, newsroom?.id);
  const key = `${base}|${format}|${newsroom?.id ?? ''}|${JSON.stringify(address)}|${stamp.version}|${newsroom?.updatedAt ?? ''}`;
  let document = distributed.get(key);
  if (!document) {
    if (distributed.size >= DISTRIBUTED_KEPT) distributed.clear();
    const scope = !newsroom || address.newsroomSlug === undefined
      ? { kind: 'all' as const }
      : address.keyword === undefined
        ? { kind: 'newsroom' as const, newsroom, lang: address.lang }
        : { kind: 'keyword' as const, newsroom, lang: address.lang, keyword: address.keyword };
    document = buildFeedView(ctx, scope, stamp).then((view) => ({
      body: writers[format](view),
      contentType: contentTypes[format],
      link: hubLinkHeader(base, format, address),
    }));
    distributed.set(key, document);
    document.catch(() => distributed.delete(key));
  }
  return document;
}

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
