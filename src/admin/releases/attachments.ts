import type { Router } from 'express';
import { addAttachment, removeAttachment, updateAttachment } from '../../attachments/operations.js';
import { updateAttachmentBody } from '../../attachments/schemas.js';
import { serveAttachmentFile, type Variant } from '../../attachments/serve.js';
import { getReleaseForStaff } from '../../releases/operations.js';
import { CSRF_FIELD, checkUploadCsrf } from '../csrf.js';
import { attempt, parseWith } from '../forms.js';
import { param, type StaffPages } from '../staff.js';
import { FormState, isShownRefusal, langOf, problemText, uploadProblemText } from '../views.js';
import { showEditor } from './editor.js';
import { backToRelease, loadRelease } from './release.js';

export function attachmentPages(router: Router, pages: StaffPages): void {
  const { ctx, staff, post } = pages;

  /* Attachments */

  router.post('/releases/:id/attachments', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    try {
      await addAttachment(ctx, release, req, checkUploadCsrf(ctx, req, session.id));
    } catch (error) {
      if (!isShownRefusal(error)) throw error;
      const current = (await getReleaseForStaff(ctx, release.id, session.principal)) ?? release;
      return showEditor(pages, req, res, newsroom, current, { uploadProblem: uploadProblemText(langOf(res), error) }, error.status);
    }
    backToRelease(res, release, '#attachments');
  }));

  router.post('/releases/:id/attachments/:attachmentId', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    const attachmentId = param(req, 'attachmentId');
    const caption = Object.fromEntries(newsroom.languages.map((code) => [code, form.get(`caption.${code}`) ?? '']));
    const outcome = await attempt(() =>
      updateAttachment(ctx, release, attachmentId, parseWith(updateAttachmentBody, { caption, credit: form.get('credit') ?? '' })),
    );
    if (outcome.error) {
      const values = new Map([...form].filter(([k]) => k !== CSRF_FIELD));
      return showEditor(pages, req, res, newsroom, release, {
        attachmentState: { id: attachmentId, state: new FormState(langOf(res), values, outcome.error.errors, `a-${attachmentId}-`) },
        problem: problemText(langOf(res), outcome.error),
      }, outcome.error.status);
    }
    backToRelease(res, release, '#attachments');
  }));

  router.post('/releases/:id/attachments/:attachmentId/remove', post(async (req, res, session) => {
    const { release } = await loadRelease(ctx, session, param(req, 'id'));
    await removeAttachment(ctx, release, param(req, 'attachmentId'));
    backToRelease(res, release, '#attachments');
  }));

  // Files of the session's newsroom, embargoed ones included (the API's file URLs need a bearer token).
  const file = (variant: Variant) =>
    staff(async (req, res, session) => serveAttachmentFile(ctx, res, param(req, 'attachmentId'), session.principal, variant));
  router.get('/files/:attachmentId/web', file('web'));
  router.get('/files/:attachmentId/:filename', file('original'));
}
