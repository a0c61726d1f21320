import type { Request, Response, Router } from 'express';
import { giveAdvanceAccess, revokeAdvanceAccess, revokeAdvanceLink } from '../../advance/operations.js';
import { linkStatus } from '../../advance/presenter.js';
import { findAdvanceAccess, listLinks, listOpenings } from '../../advance/repository.js';
import { giveAdvanceAccessBody } from '../../advance/schemas.js';
import { listJournalists } from '../../journalists/repository.js';
import { AppError } from '../../lib/errors.js';
import { t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import { isoTime } from '../../lib/time.js';
import type { Newsroom } from '../../newsrooms/repository.js';
import type { Release } from '../../releases/repository.js';
import { effectiveStatus } from '../../releases/visibility.js';
import { attempt, parseWith, text } from '../forms.js';
import { loadRelease } from '../releases/release.js';
import { param, type StaffPages } from '../staff.js';
import { FormState, langOf, languageName, problemText } from '../views.js';
import { instantToZoned, zonedToInstant } from '../zoned.js';

/*
 * A release's advance access: give it (from when, to whom), the personal links with their
 * state and a revoke button each, revoke all, and the access log. The page says that the
 * log exists, as the journalists' email does.
 */

const view = templateBeside(import.meta.url, 'advance.hbs');
/** The log shown on the page: the latest openings (the API pages through all). */
const LOG_ROWS = 500;

export function advancePages(router: Router, { ctx, show, staff, post }: StaffPages): void {
  async function showAdvance(req: Request, res: Response, release: Release, newsroom: Newsroom, state?: FormState, problem?: string, status = 200) {
    const lang = langOf(res);
    const [access, links, journalists, openings] = await Promise.all([
      findAdvanceAccess(ctx.db, release.id),
      listLinks(ctx.db, release.id),
      listJournalists(ctx.db, newsroom.id, 'active'),
      listOpenings(ctx.db, release.id, LOG_ROWS, 0),
    ]);
    const form = state ?? new FormState(lang, new Map([['opensAt', access ? instantToZoned(access.opensAt, newsroom.timezone) : '']]));
    const holding = new Set(links.filter((l) => !l.revoked_at).map((l) => l.journalist_id));
    const chosen = new Set(state ? (state.values.get('journalists') ?? '').split(',') : holding);
    const title = release.translations[0]!.title;
    await show(req, res, view, t(lang, 'admin.advance.title', { title }), {
      release: { id: release.id, title, publishAt: release.publishAt },
      timezone: newsroom.timezone,
      canGive: effectiveStatus(release, ctx.clock.now()) === 'scheduled',
      access: access && { ...access, live: !access.revokedAt, all: access.audience === 'all' },
      audienceAll: state ? state.values.get('audience') === 'all' : !access || access.audience === 'all',
      opensAt: form.field('opensAt'),
      summary: form.summary(['opensAt', 'journalists']),
      problem,
      journalists: journalists.map((j) => ({ id: j.id, name: j.name, outlet: j.outlet, checked: chosen.has(j.id) })),
      links: links.map((l) => {
        const status = linkStatus(l);
        return { ...l, status, live: status === 'sent' || status === 'pending', statusLabel: t(lang, `admin.advance.linkStatus.${status}`), languageName: l.sent_at && l.lang ? languageName(l.lang, lang) : '' };
      }),
      openings: openings.map((o) => ({ ...o, shortHash: o.ip_hash.slice(0, 12), languageName: languageName(o.lang, lang) })),
    }, status);
  }

  router.get('/releases/:id/advance', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    await showAdvance(req, res, release, newsroom);
  }));

  router.post('/releases/:id/advance', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    const local = text(form, 'opensAt');
    const all = text(form, 'audience') === 'all';
    const ids = form.getAll('journalists');
    const outcome = await attempt(async () => {
      const at = local === '' ? ctx.clock.now() : zonedToInstant(local, newsroom.timezone);
      if (!at) throw new AppError(422, 'unprocessable', 'The time is not valid.', [{ path: 'opensAt', message: t(langOf(res), 'admin.schedule.invalid') }]);
      const input = parseWith(giveAdvanceAccessBody, { opensAt: isoTime(at), journalists: all ? 'all' : ids });
      return giveAdvanceAccess(ctx, release, input);
    });
    if (outcome.error) {
      const state = new FormState(langOf(res), new Map([['opensAt', local], ['audience', all ? 'all' : 'chosen'], ['journalists', ids.join(',')]]), outcome.error.errors);
      return showAdvance(req, res, release, newsroom, state, problemText(langOf(res), outcome.error), outcome.error.status);
    }
    res.redirect(303, `/admin/releases/${encodeURIComponent(release.id)}/advance`);
  }));

  router.post('/releases/:id/advance/revoke', post(async (req, res, session) => {
    const { release } = await loadRelease(ctx, session, param(req, 'id'));
    await revokeAdvanceAccess(ctx, release);
    res.redirect(303, `/admin/releases/${encodeURIComponent(release.id)}/advance`);
  }));

  router.post('/releases/:id/advance/links/:linkId/revoke', post(async (req, res, session) => {
    const { release } = await loadRelease(ctx, session, param(req, 'id'));
    await revokeAdvanceLink(ctx, release, param(req, 'linkId'));
    res.redirect(303, `/admin/releases/${encodeURIComponent(release.id)}/advance`);
  }));
}
