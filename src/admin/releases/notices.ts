import type { Router } from 'express';
import { deliveryCounts } from '../../delivery/counts.js';
import { t } from '../../lib/i18n.js';
import { notifyRecipients } from '../../notices/operations.js';
import { attempt } from '../forms.js';
import { confirmView, param, type StaffPages } from '../staff.js';
import { langOf, problemText } from '../views.js';
import { showEditor } from './editor.js';
import { backToRelease, loadRelease } from './release.js';

/*
 * Notifying those who received a release of a correction or its withdrawal: a
 * confirmation page (works without scripts), then the notices go out once.
 */

export function noticePages(router: Router, pages: StaffPages): void {
  const { ctx, show, staff, post } = pages;
  const path = '/releases/:id/corrections/:correctionId/notify';

  router.get(path, staff(async (req, res, session) => {
    const { release } = await loadRelease(ctx, session, param(req, 'id'));
    const lang = langOf(res);
    const tr = release.translations.find((x) => x.lang === lang) ?? release.translations[0];
    const recipients = (await deliveryCounts(ctx, release.id)).sent;
    await show(req, res, confirmView, t(lang, 'admin.corrections.notice.title'), {
      question: t(lang, 'admin.corrections.notice.question', { count: recipients, title: tr?.title ?? '' }),
      button: t(lang, 'admin.corrections.notice.button'),
      action: `/admin/releases/${encodeURIComponent(release.id)}/corrections/${encodeURIComponent(param(req, 'correctionId'))}/notify`,
      cancel: `/admin/releases/${encodeURIComponent(release.id)}#corrections`,
    });
  }));

  router.post(path, post(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    const outcome = await attempt(() => notifyRecipients(ctx, release, param(req, 'correctionId')));
    if (outcome.error) {
      return showEditor(pages, req, res, newsroom, release, { problem: problemText(langOf(res), outcome.error) }, outcome.error.status);
    }
    backToRelease(res, release, '#delivery');
  }));
}
