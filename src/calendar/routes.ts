import { create as contentDisposition } from 'content-disposition';
import { Router } from 'express';
import type { AppContext } from '../context.js';
import { notFound } from '../lib/errors.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import { currentPublicStamp, listPublicReleasesAsOf, lookUpPublicRelease } from '../releases/public.js';
import { ID_SEGMENT, LANGUAGE_SEGMENT, missing, output, outputSender, withdrawn } from '../site/output.js';
import { translationIn } from '../site/presenter.js';
import { slugify } from '../site/urls.js';
import { invitationCalendar, invitationIcs } from './ics.js';

/*
 * Calendars of invitations: one invitation's event to add to a calendar, and a
 * newsroom's calendar of its public invitations to subscribe to. Public releases only,
 * read through releases/public.ts: nothing of an embargoed invitation is in either before
 * its publication time. A withdrawn invitation leaves the calendar (subscribed calendars
 * drop an event the feed no longer has; a STATUS:CANCELLED event in a PUBLISH calendar is
 * shown by some clients as if it still took place, and would keep its time and title
 * public), and its own `.ics` answers 410, as its pages do.
 */

const CALENDAR_TYPE = 'text/calendar; charset=utf-8';

/** Past events stay this long, so that a subscribed calendar keeps what took place. */
const PAST_DAYS = 30;
const PAST_MS = PAST_DAYS * 24 * 3600 * 1000;
/** The most events a newsroom's calendar holds. */
const CALENDAR_SIZE = 500;

export function calendarRoutes(ctx: AppContext): Router {
  const router = Router();
  const base = ctx.config.publicUrl;
  const { newsroomIdOf, send } = outputSender(ctx);

  router.get('/:slug/:lang/calendar.ics', async (req, res) => {
    const { slug, lang } = req.params;
    if (!LANGUAGE_SEGMENT.test(lang)) throw notFound('Calendar');
    const newsroomId = await newsroomIdOf(slug);
    const stamp = await currentPublicStamp(ctx, newsroomId);
    await send(req, res, CALENDAR_TYPE, `calendar|${newsroomId}|${lang}`, stamp, async () => {
      const newsroom = await findNewsroomById(ctx.db, newsroomId);
      if (!newsroom?.languages.includes(lang)) return missing('Calendar');
      const from = ctx.clock.now().getTime() - PAST_MS;
      const releases = await listPublicReleasesAsOf(
        ctx,
        { newsroomId, lang, eventsEndingFrom: isoTime(new Date(from)), limit: CALENDAR_SIZE },
        stamp,
      );
      // Rendered again once the first event has been over for PAST_DAYS.
      const ends = releases.map((r) => Date.parse(r.event!.endsAt ?? r.event!.startsAt) + PAST_MS);
      return output(invitationCalendar({ releases, newsroom, lang, base }), ends.length ? { staleAt: Math.min(...ends) } : {});
    });
  });

  router.get('/:slug/:lang/:id/event.ics', async (req, res, next) => {
    const { slug, lang, id } = req.params;
    if (!LANGUAGE_SEGMENT.test(lang) || !ID_SEGMENT.test(id)) return next();
    const newsroomId = await newsroomIdOf(slug);
    const stamp = await currentPublicStamp(ctx, newsroomId);
    await send(req, res, CALENDAR_TYPE, `event|${newsroomId}|${lang}|${id}`, stamp, async () => {
      const found = await lookUpPublicRelease(ctx, id, { newsroomId, lang });
      if ('missing' in found) return missing('Event');
      if ('withdrawn' in found) return withdrawn();
      const newsroom = (await findNewsroomById(ctx.db, newsroomId))!;
      const ics = invitationIcs({ release: found.release, newsroom, lang, base });
      if (!ics) return missing('Event');
      const filename = `${slugify(translationIn(found.release, lang)!.title)}.ics`;
      return output(ics, { headers: { 'Content-Disposition': contentDisposition(filename) } });
    });
  });

  return router;
}
