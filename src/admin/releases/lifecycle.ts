import type { Router } from 'express';
import { AppError, conflict } from '../../lib/errors.js';
import { t } from '../../lib/i18n.js';
import { isoTime } from '../../lib/time.js';
import { publishRelease, scheduleRelease, unscheduleRelease, withdrawRelease } from '../../releases/operations.js';
import type { Release } from '../../releases/repository.js';
import { scheduleBody, withdrawBody } from '../../releases/schemas.js';
import { attempt, parseWith, text } from '../forms.js';
import { confirmView, param, type StaffPages } from '../staff.js';
import { FormState, langOf, languageName, problemText } from '../views.js';
import { zonedToInstant } from '../zoned.js';
import { showEditor } from './editor.js';
import { backToRelease, loadRelease } from './release.js';

/* Scheduling, publishing and withdrawing a release, from the schedule section of its page. */

/** The lifecycle actions check that the page acted on is the release as it is now. */
function sameVersion(form: URLSearchParams, release: Release): void {
  if (Number(form.get('version')) !== release.version) {
    throw conflict('The release was changed by someone else meanwhile; load it again and retry.', { code: 'changed-meanwhile' });
  }
}

export function lifecyclePages(router: Router, pages: StaffPages): void {
  const { ctx, show, staff, post } = pages;

  router.post('/releases/:id/schedule', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    const local = text(form, 'publishAt');
    const at = zonedToInstant(local, newsroom.timezone);
    const outcome = await attempt(async () => {
      sameVersion(form, release);
      if (!at) throw new AppError(422, 'unprocessable', 'The publication time is not valid.', [{ path: 'publishAt', message: t(langOf(res), 'admin.schedule.invalid') }]);
      return scheduleRelease(ctx, release, parseWith(scheduleBody, { publishAt: isoTime(at) }).publishAt);
    });
    if (outcome.error) {
      return showEditor(pages, req, res, newsroom, release, {
        scheduleState: new FormState(langOf(res), new Map([['publishAt', local]]), outcome.error.errors),
        problem: problemText(langOf(res), outcome.error),
        conflict: outcome.error.status === 409,
      }, outcome.error.status);
    }
    backToRelease(res, release, '#schedule');
  }));

  /** The public reasons written on the withdraw form, in the release's languages. */
  const reasonInput = (form: URLSearchParams, release: Release) =>
    Object.fromEntries(
      release.translations.map(({ lang }) => [lang, (form.get(`reason.${lang}`) ?? '').trim()] as const).filter(([, reason]) => reason),
    );
  const lifecycle = {
    unschedule: (_form: URLSearchParams, release: Release) => unscheduleRelease(ctx, release),
    publish: (_form: URLSearchParams, release: Release) => publishRelease(ctx, release),
    withdraw: (form: URLSearchParams, release: Release) =>
      withdrawRelease(ctx, release, parseWith(withdrawBody, { reason: reasonInput(form, release) }).reason),
  } as const;
  type Action = keyof typeof lifecycle;

  for (const action of Object.keys(lifecycle) as Action[]) {
    if (action !== 'unschedule') {
      // The confirmation step, a page of its own so that it works without scripts.
      router.get(`/releases/:id/${action}`, staff(async (req, res, session) => {
        const { release } = await loadRelease(ctx, session, param(req, 'id'));
        const lang = langOf(res);
        const tr = release.translations.find((x) => x.lang === lang) ?? release.translations[0];
        await show(req, res, confirmView, t(lang, `admin.confirm.${action}.title`), {
          question: t(lang, `admin.confirm.${action}.question`, { title: tr?.title ?? '' }),
          button: t(lang, `admin.confirm.${action}.button`),
          action: `/admin/releases/${encodeURIComponent(release.id)}/${action}`,
          cancel: `/admin/releases/${encodeURIComponent(release.id)}`,
          version: release.version,
          danger: action === 'withdraw',
          // A withdrawal may say why, in public: the release's 410 pages show it.
          ...(action === 'withdraw'
            ? {
                hint: t(lang, 'admin.confirm.withdraw.reasonHint'),
                fields: release.translations.map(({ lang: code }) => ({
                  field: new FormState(lang).field(`reason.${code}`),
                  label: t(lang, 'admin.confirm.withdraw.reason', { language: languageName(code, lang) }),
                })),
              }
            : {}),
        });
      }));
    }
    router.post(`/releases/:id/${action}`, post(async (req, res, session, form) => {
      const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
      const outcome = await attempt(async () => {
        sameVersion(form, release);
        return lifecycle[action](form, release);
      });
      if (outcome.error) return showEditor(pages, req, res, newsroom, release, { problem: problemText(langOf(res), outcome.error), conflict: outcome.error.status === 409 }, outcome.error.status);
      backToRelease(res, release, '#schedule');
    }));
  }
}
