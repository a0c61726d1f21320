import { Router } from 'express';
import type { AppContext } from '../context.js';
import { notFound } from '../lib/errors.js';
import { FEED_SIZE } from '../feeds/items.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import { currentPublicStamp, listPublicReleasesAsOf, lookUpPublicRelease } from '../releases/public.js';
import { ID_SEGMENT, LANGUAGE_SEGMENT, missing, output, outputSender } from '../site/output.js';
import { canceledNinjsItem, ninjsItem } from './document.js';

/*
 * IPTC ninjs for wire services: a release in one language, and a newsroom's latest 50 in
 * one language as a JSON list of items, newest publication first. Public releases only,
 * read through releases/public.ts: under embargo a release is a 404 exactly like an
 * unknown one. A withdrawn release answers 410, as its pages do, but with the news item
 * canceled (pubstatus `canceled`, a version after the last, no content) as the body: a
 * wire service that took the release learns from it to kill the story.
 */

const JSON_TYPE = 'application/json; charset=utf-8';

export function ninjsRoutes(ctx: AppContext): Router {
  const router = Router();
  const base = ctx.config.publicUrl;
  const { newsroomIdOf, send } = outputSender(ctx);
  const json = (value: unknown, status?: number) => output(JSON.stringify(value), status ? { status } : {});

  router.get('/:slug/:lang/ninjs.json', async (req, res) => {
    const { slug, lang } = req.params;
    if (!LANGUAGE_SEGMENT.test(lang)) throw notFound('Feed');
    const newsroomId = await newsroomIdOf(slug);
    const stamp = await currentPublicStamp(ctx, newsroomId);
    await send(req, res, JSON_TYPE, `ninjs|${newsroomId}|${lang}`, stamp, async () => {
      const newsroom = await findNewsroomById(ctx.db, newsroomId);
      if (!newsroom?.languages.includes(lang)) return missing('Feed');
      const releases = await listPublicReleasesAsOf(ctx, { newsroomId, lang, limit: FEED_SIZE }, stamp);
      return json(releases.map((release) => ninjsItem(release, newsroom, lang, base)));
    });
  });

  router.get('/:slug/:lang/:id/ninjs.json', async (req, res, next) => {
    const { slug, lang, id } = req.params;
    // Not a release's address (e.g. a keyword's page named "ninjs.json"): someone else's.
    if (!LANGUAGE_SEGMENT.test(lang) || !ID_SEGMENT.test(id)) return next();
    const newsroomId = await newsroomIdOf(slug);
    const stamp = await currentPublicStamp(ctx, newsroomId);
    await send(req, res, JSON_TYPE, `ninjs|${newsroomId}|${lang}|${id}`, stamp, async () => {
      const found = await lookUpPublicRelease(ctx, id, { newsroomId, lang });
      if ('missing' in found) return missing('Release');
      if ('withdrawn' in found) return json(canceledNinjsItem(found.withdrawn, lang), 410);
      const newsroom = (await findNewsroomById(ctx.db, newsroomId))!;
      return json(ninjsItem(found.release, newsroom, lang, base));
    });
  });

  return router;
}
