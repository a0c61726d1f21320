import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { writeCounter } from '../lib/db/database.js';
import { AppError } from '../lib/errors.js';
import { defineRoute, type RouteDefinition } from '../lib/routes.js';
import { pathKey } from '../lib/schemas.js';
import { interfaceLanguages } from '../lib/i18n.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomById, findNewsroomBySlug, listNewsrooms, type Newsroom } from '../newsrooms/repository.js';
import { getReleaseForStaff } from '../releases/operations.js';
import type { Release } from '../releases/repository.js';
import {
  getPublicContact,
  getPublicRelease,
  currentPublicStamp,
  type PublicStamp,
  searchPublicReleases,
  withdrawal,
} from '../releases/public.js';
import { MAX_AGE_SECONDS, RenderCache, type Rendered, rendered, REVALIDATE, sendCacheable } from './cache.js';
import {
  PAGE_SIZE,
  renderFrontPage,
  renderGone,
  renderKeywordPage,
  renderNewsroomPage,
  renderNotFound,
  renderReleasePage,
  renderSearchPage,
} from './pages.js';
import { brandStylesheet, newsroomName, translationIn } from './presenter.js';
import { ID_SEGMENT } from './output.js';
import { faviconIco, serveStatic } from './static.js';
import { type FileUrls, newsroomPageUrl, releasePageUrl, slugify } from './urls.js';
import { contactVcard } from './vcard.js';

/*
 * The public site: release, newsroom, keyword, search and front pages, vCards and the
 * static files. A handler that does not recognise its path passes it on (next), so the
 * feeds and other routers mounted after this one still get theirs; sitePageNotFound,
 * mounted last, answers what nobody took.
 */

const PAGE_NUMBER = /^[1-9][0-9]{0,4}$/;
const HTML = 'text/html; charset=utf-8';

/**
 * Pages load only our own stylesheet and images and post forms only to us. No script at
 * all: JSON-LD is a data block, which CSP does not govern. Embedded players in bodies are
 * shown as links (see presenter.bodyForPage), so no frame is allowed either.
 */
export function pagePolicy(publicUrl: string): string {
  const origin = new URL(publicUrl).origin;
  return [
    "default-src 'none'",
    `style-src 'self' ${origin}`,
    `img-src 'self' ${origin}`,
    `form-action 'self' ${origin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Path parameters of the site's routes (each route has some of them). */
const pathOf = (req: Request) => req.params as { slug: string; lang: string; id: string; title?: string; keyword: string };

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;

export function siteRoutes(ctx: AppContext): Router {
  const base = ctx.config.publicUrl;
  const policy = pagePolicy(base);
  const cache = new RenderCache<Rendered>();
  const router = Router();

  const page =
    (handler: Handler): RequestHandler =>
    (req, res, next) => {
      res.set('Content-Security-Policy', policy);
      return handler(req, res, next);
    };

  const sendPage = (req: Request, res: Response, html: Rendered, stamp: PublicStamp) =>
    sendCacheable(req, res, {
      ...html,
      contentType: HTML,
      lastModified: stamp.lastModified,
    });

  /** Error pages are never cached: a 404 under embargo must not outlive the embargo anywhere. */
  const sendError = (res: Response, status: number, body: string) => {
    res.status(status).set({ 'Content-Type': HTML, 'Cache-Control': 'no-store' }).send(body);
  };
  const notFoundPage = (res: Response, lang: string, newsroom?: Newsroom) =>
    sendError(res, 404, renderNotFound(ctx, lang, newsroom));

  /** A page from the cache, or rendered and kept; nothing is kept when there is no such page. */
  const cachedPage = async (key: string, render: () => Promise<string | undefined>) => {
    const hit = cache.peek(key);
    if (hit) return hit;
    const html = await render();
    return html === undefined ? undefined : cache.get(key, () => rendered(html));
  };

  /**
   * Newsrooms by slug, kept while the database has taken no write since they were read
   * (SQLite's write counter; PostgreSQL has none, so there every request reads).
   */
  const newsrooms = new Map<string, { counter: string; newsroom: Newsroom | undefined }>();
  const newsroomOf = async (slug: string) => {
    const counter = writeCounter(ctx.store);
    const hit = newsrooms.get(slug);
    if (counter !== undefined && hit?.counter === counter) return hit.newsroom;
    const newsroom = await findNewsroomBySlug(ctx.db, slug);
    if (counter !== undefined) {
      if (newsrooms.size >= 1000) newsrooms.clear();
      newsrooms.set(slug, { counter, newsroom });
    }
    return newsroom;
  };

  /** The newsroom of `slug` if it publishes in `lang`. */
  const newsroomIn = async (slug: string, lang: string) => {
    const newsroom = await newsroomOf(slug);
    return newsroom?.languages.includes(lang) ? newsroom : undefined;
  };

  /** `?page=N`: 1 when absent, undefined when not a page number. */
  const pageNumber = (req: Request) => {
    const given = req.query.page;
    if (given === undefined) return 1;
    return typeof given === 'string' && PAGE_NUMBER.test(given) ? Number(given) : undefined;
  };

  router.use('/static', serveStatic());

  router.get('/:slug/brand.css', async (req, res, next) => {
    const newsroom = await newsroomOf(pathOf(req).slug);
    if (!newsroom?.brandColor) return next();
    sendCacheable(req, res, {
      body: brandStylesheet(newsroom.brandColor),
      contentType: 'text/css; charset=utf-8',
      lastModified: new Date(newsroom.updatedAt),
      // Pages link it under the colour's own URL (urls.ts brandStylesheetUrl).
      maxAge: 7 * 24 * 3600,
    });
  });

  router.get('/favicon.ico', async (req, res) => {
    sendCacheable(req, res, {
      body: await faviconIco(),
      contentType: 'image/x-icon',
      lastModified: new Date(0), // it follows from the code alone
      maxAge: 24 * 3600,
    });
  });

  router.get(
    '/',
    page(async (req, res) => {
      // The language the switch chose (?lang=), else the browser's (Accept-Language), else English.
      const chosen = typeof req.query.lang === 'string' && interfaceLanguages.includes(req.query.lang) ? req.query.lang : undefined;
      if (!chosen) res.vary('Accept-Language');
      const lang = chosen ?? (req.acceptsLanguages(...interfaceLanguages) || 'en');
      const stamp = await currentPublicStamp(ctx);
      const html = await cachedPage(`front|${lang}|${stamp.version}`, async () => renderFrontPage(ctx, await listNewsrooms(ctx.db), lang));
      sendPage(req, res, html!, stamp);
    }),
  );

  router.get(
    '/:slug/contacts/:file',
    page(async (req, res, next) => {
      const id = /^(.+)\.vcf$/.exec(String(req.params.file))?.[1];
      const newsroom = await newsroomOf(String(req.params.slug));
      if (!id || !ID_SEGMENT.test(id) || !newsroom) return next();
      const stamp = await currentPublicStamp(ctx, newsroom.id);
      const contact = await getPublicContact(ctx, newsroom.id, id).catch(() => undefined);
      if (!contact) return notFoundPage(res, newsroom.languages[0]!, newsroom);
      const lang = newsroom.languages[0]!;
      res.set('Content-Disposition', `attachment; filename="${slugify(contact.name)}.vcf"`);
      sendCacheable(req, res, {
        ...(await rendered(
          contactVcard({
            contact,
            organisation: newsroomName(newsroom, lang),
            languages: newsroom.languages,
            url: newsroomPageUrl(base, newsroom.slug, lang),
          }),
        )),
        contentType: 'text/vcard; charset=utf-8',
        lastModified: stamp.lastModified,
      });
    }),
  );

  // A newsroom's address without a language: its first language.
  router.get('/:slug', async (req, res, next) => {
    const newsroom = await newsroomOf(pathOf(req).slug);
    if (!newsroom) return next();
    res.set('Cache-Control', `public, max-age=${MAX_AGE_SECONDS}`);
    res.redirect(302, newsroomPageUrl(base, newsroom.slug, newsroom.languages[0]!));
  });

  router.get(
    '/:slug/:lang',
    page(async (req, res, next) => {
      const { slug, lang } = pathOf(req);
      const newsroom = await newsroomIn(slug, lang);
      if (!newsroom) return next();
      const number = pageNumber(req);
      if (number === undefined) return notFoundPage(res, lang, newsroom);
      const stamp = await currentPublicStamp(ctx, newsroom.id);
      const html = await cachedPage(`newsroom|${newsroom.id}|${lang}|${number}|${stamp.version}`, () =>
        renderNewsroomPage(ctx, newsroom, lang, number),
      );
      if (!html) return notFoundPage(res, lang, newsroom);
      sendPage(req, res, html, stamp);
    }),
  );

  router.get(
    '/:slug/:lang/search',
    page(async (req, res, next) => {
      const { slug, lang } = pathOf(req);
      const newsroom = await newsroomIn(slug, lang);
      if (!newsroom) return next();
      const query = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : '';
      const stamp = await currentPublicStamp(ctx, newsroom.id);
      const hits = query ? await searchPublicReleases(ctx, { newsroomId: newsroom.id, lang, query, limit: PAGE_SIZE }) : [];
      sendPage(req, res, await rendered(renderSearchPage(ctx, newsroom, lang, query, hits)), stamp);
    }),
  );

  router.get(
    '/:slug/:lang/keyword/:keyword',
    page(async (req, res, next) => {
      const { slug, lang, keyword } = pathOf(req);
      const newsroom = await newsroomIn(slug, lang);
      if (!newsroom) return next();
      const number = pageNumber(req);
      const stamp = await currentPublicStamp(ctx, newsroom.id);
      const key = keyword.toLowerCase();
      const html =
        number &&
        (await cachedPage(`keyword|${newsroom.id}|${lang}|${key}|${number}|${stamp.version}`, () =>
          renderKeywordPage(ctx, newsroom, lang, key, number),
        ));
      if (!html) return notFoundPage(res, lang, newsroom);
      sendPage(req, res, html, stamp);
    }),
  );

  /** A rendered release page, with the title segment of its address. */
  const releasePages = new RenderCache<Rendered & { titleSlug: string }>();

  const releasePage = page(async (req, res, next) => {
    const { slug, lang, id, title } = pathOf(req);
    if (!ID_SEGMENT.test(id)) return next();
    const newsroom = await newsroomIn(slug, lang);
    if (!newsroom) return next();
    const stamp = await currentPublicStamp(ctx, newsroom.id);
    // The stamp changes with anything that could change whether the release is public, so a
    // page cached under it is still true: the release need not be read again.
    const key = `release|${newsroom.id}|${id}|${lang}|${stamp.version}`;
    let html = releasePages.peek(key);
    if (!html) {
      let release;
      try {
        release = await getPublicRelease(ctx, id);
      } catch (error) {
        if (error instanceof AppError && error.status === 410) {
          return sendError(res, 410, renderGone(ctx, newsroom, lang, await withdrawal(ctx, id)));
        }
        if (error instanceof AppError && error.status === 404) return notFoundPage(res, lang, newsroom);
        throw error;
      }
      const translation = translationIn(release, lang);
      if (release.newsroomId !== newsroom.id || !translation) return notFoundPage(res, lang, newsroom);
      const shown = release;
      html = await releasePages.get(key, async () => ({
        ...(await rendered(await renderReleasePage(ctx, newsroom, shown, lang))),
        titleSlug: slugify(translation.title),
      }));
    }
    if (title !== html.titleSlug) {
      res.set('Cache-Control', REVALIDATE);
      // slugify is idempotent: the slug stands in for the title.
      res.redirect(301, releasePageUrl(base, newsroom.slug, lang, id, html.titleSlug));
      return;
    }
    sendPage(req, res, html, stamp);
  });
  router.get('/:slug/:lang/:id/:title', releasePage);
  // Without its title: sent on to the page's address.
  router.get('/:slug/:lang/:id', releasePage);

  return router;
}

/**
 * The HTML 404 page for GET and HEAD of any address outside /api that nothing answered;
 * mount it after every other router. In the newsroom's language when the path names one.
 */
export function sitePageNotFound(ctx: AppContext): RequestHandler {
  const policy = pagePolicy(ctx.config.publicUrl);
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path === '/api' || req.path.startsWith('/api/')) return next();
    void (async () => {
      const [slug, lang] = req.path.split('/').slice(1).map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return '';
        }
      });
      const newsroom = slug ? await findNewsroomBySlug(ctx.db, slug) : undefined;
      const shownLang = newsroom ? (lang && newsroom.languages.includes(lang) ? lang : newsroom.languages[0]!) : 'en';
      res
        .status(404)
        .set({ 'Content-Type': HTML, 'Cache-Control': 'no-store', 'Content-Security-Policy': policy })
        .send(renderNotFound(ctx, shownLang, newsroom));
    })().catch(next);
  };
}

/** The staff preview of a release page, under /api (newsroom token). */
export function sitePreviewRoutes(ctx: AppContext): RouteDefinition[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/releases/:id/preview/:lang',
      tag: 'Releases',
      summary: 'The release page in one language as it will be published, whatever its status (never cached)',
      access: 'token',
      // Any language is a 404 here, not a 400: the path names something, or nothing.
      params: z.object({ id: pathKey, lang: pathKey }),
      responses: {
        200: { description: 'The page', contentType: 'text/html' },
        404: { description: 'No such release, or not in that language' },
      },
      load: ({ params, principal }) => getReleaseForStaff(ctx, params.id, principal),
      async handle({ params, loaded: release, res }) {
        sendReleasePreview(ctx, res, await renderReleasePreview(ctx, release, params.lang));
      },
    }),
  ];
}

/**
 * A release's page in one language as it will be published, whatever its status (the
 * API's and the staff app's previews); 404 when the release has no text in `lang`.
 * `fileUrls`: where its attachments are linked (by default the public file URLs).
 */
export async function renderReleasePreview(ctx: AppContext, release: Release, lang: string, fileUrls?: FileUrls): Promise<string> {
  const newsroom = await findNewsroomById(ctx.db, release.newsroomId);
  if (!newsroom || !translationIn(release, lang)) throw new AppError(404, 'not-found', 'The release has no text in that language.');
  const publishedAt = release.publishedAt ?? release.publishAt ?? isoTime(ctx.clock.now());
  return renderReleasePage(ctx, newsroom, { ...release, publishedAt }, lang, fileUrls);
}

/** A preview is never cached, never indexed, and carries the pages' own policy. */
export function sendReleasePreview(ctx: AppContext, res: Response, html: string): void {
  res
    .status(200)
    .set({
      'Content-Type': HTML,
      'Cache-Control': 'no-store',
      'Content-Security-Policy': pagePolicy(ctx.config.publicUrl),
      'X-Robots-Tag': 'noindex',
    })
    .send(html);
}
