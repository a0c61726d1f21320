import { readFile, rm } from 'node:fs/promises';
import type { Request, Response, Router } from 'express';
import { receiveForm } from '../../attachments/upload.js';
import { countSubscriberBounces, listSubscriberBounces } from '../../bounces/repository.js';
import { SUPPRESS_AFTER_HARD_BOUNCES } from '../../delivery/policy.js';
import { formatDateTime, formatSize, t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import type { Newsroom } from '../../newsrooms/repository.js';
import { INVITE_CSV_MAX_BYTES, type InviteCsvProblem, readInviteCsv } from '../../subscriptions/csv.js';
import {
  deleteSubscriber,
  exportSubscribers,
  getInvitationBudget,
  getSubscriberOf,
  type InviteResult,
  type InviteRow,
  inviteSubscribers,
} from '../../subscriptions/operations.js';
import { sendSubscribersCsv } from '../../subscriptions/presenter.js';
import { countSubscribers, countSuppressed, listSubscribers } from '../../subscriptions/repository.js';
import { MAX_IMPORT, subscriberStatus } from '../../subscriptions/schemas.js';
import { bounceItems } from '../bounces/bounces.js';
import { checkUploadCsrf } from '../csrf.js';
import { type Session, setFlash, takeFlash } from '../session.js';
import { confirmView, type StaffPages } from '../staff.js';
import { FormState, isShownRefusal, langOf, languageName } from '../views.js';

/*
 * The subscribers of the working newsroom: counts, a searchable list, removal (after a
 * confirmation page), the CSV export of the API, and invitations from a CSV upload that
 * go through the double opt-in (nobody is subscribed without confirming).
 */

const view = templateBeside(import.meta.url, 'subscribers.hbs');
const historyView = templateBeside(import.meta.url, 'bounce-history.hbs');
const PAGE_SIZE = 50;
/** A subscriber's bounce history shows this many, latest first. */
const HISTORY_SIZE = 100;
/** An import's result, for the newsroom's subscribers page the import redirects to. */
const importFlash = (newsroom: Newsroom) => `import-${newsroom.id}`;

/** What went wrong with an upload, as the file field shows it. */
type UploadProblem = InviteCsvProblem | { problem: 'noFile' | 'tooLarge' };

/** Line numbers, ascending, as runs: `2–500, 502, 504–10001`. */
function lineRuns(lines: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let end = i;
    while (end + 1 < lines.length && lines[end + 1] === lines[end]! + 1) end++;
    runs.push(end === i ? String(lines[i]) : `${lines[i]}–${lines[end]}`);
    i = end + 1;
  }
  return runs.join(', ');
}

export function subscriberPages(router: Router, { ctx, show, staff, post, workingNewsroom }: StaffPages): void {
  interface PageState {
    importState?: FormState;
    result?: InviteResult;
    removed?: boolean;
  }

  async function showSubscribers(req: Request, res: Response, newsroom: Newsroom, s: PageState, status = 200) {
    const lang = langOf(res);
    const filter = subscriberStatus.safeParse(req.query.status).data;
    const search = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 254) : '';
    const page = Math.max(0, Math.min(10_000, Number.parseInt(String(req.query.page ?? '0'), 10) || 0));
    const [list, counts, suppressed, budget] = await Promise.all([
      listSubscribers(ctx.db, newsroom.id, { status: filter, q: search || undefined, limit: PAGE_SIZE, offset: page * PAGE_SIZE }),
      countSubscribers(ctx.db, newsroom.id),
      countSuppressed(ctx.db, newsroom.id, SUPPRESS_AFTER_HARD_BOUNCES),
      s.result?.budget ?? getInvitationBudget(ctx, newsroom),
    ]);
    const bounceCounts = await countSubscriberBounces(ctx.db, list.items.map((sub) => sub.id));
    const budgetWords = {
      left: budget.left.toLocaleString(lang),
      perDay: budget.perDay.toLocaleString(lang),
      time: budget.freesAt ? formatDateTime(lang, budget.freesAt, newsroom.timezone) : '',
      lines: lineRuns(s.result?.overBudget ?? []),
    };
    const budgetState = budget.perDay === 0 ? 'Off' : budget.left === 0 && budget.freesAt ? 'Spent' : '';
    const query = (p: number) => `?${new URLSearchParams({ ...(filter ? { status: filter } : {}), ...(search ? { q: search } : {}), page: String(p) })}`;
    const importState = s.importState ?? new FormState(lang);
    await show(req, res, view, t(lang, 'admin.subscribers.title'), {
      timezone: newsroom.timezone,
      statusCounts: subscriberStatus.options.map((value) => ({
        value,
        label: t(lang, `admin.subscribers.status.${value}`),
        count: counts.status[value],
        href: `?${new URLSearchParams({ status: value })}`,
      })),
      suppressed,
      languageCounts: newsroom.languages.map((code) => ({ name: languageName(code, lang), count: counts.language[code] ?? 0 })),
      statuses: subscriberStatus.options.map((value) => ({ value, label: t(lang, `admin.subscribers.status.${value}`), selected: value === filter })),
      search,
      subscribers: list.items.map((sub) => ({
        id: sub.id,
        email: sub.email,
        languages: sub.languages.join(', '),
        status: sub.status,
        statusLabel: t(lang, `admin.subscribers.status.${sub.status}`),
        createdAt: sub.createdAt,
        confirmedAt: sub.confirmedAt,
        bounces: bounceCounts.get(sub.id) ?? 0,
      })),
      showing: list.items.length ? { from: page * PAGE_SIZE + 1, to: page * PAGE_SIZE + list.items.length, total: list.total } : undefined,
      previousPage: page > 0 ? query(page - 1) : undefined,
      nextPage: (page + 1) * PAGE_SIZE < list.total ? query(page + 1) : undefined,
      removed: s.removed,
      fileField: importState.field('file'),
      importFormat: t(lang, 'admin.subscribers.import.format', { language: newsroom.languages[0]!, max: MAX_IMPORT.toLocaleString(lang) }),
      importBudget: t(lang, `admin.subscribers.import.budget${budgetState}`, budgetWords),
      result: s.result && {
        ...s.result,
        overBudget: s.result.overBudget.length,
        overBudgetNotice:
          s.result.overBudget.length > 0 && t(lang, `admin.subscribers.import.overBudget${budgetState === 'Off' ? 'Off' : 'Notice'}`, budgetWords),
        rejected: s.result.rejected.map((r) => ({ line: r.line, reason: t(lang, `admin.subscribers.reason.${r.reason}`, { value: r.value }) })),
      },
    }, status);
  }

  router.get('/subscribers', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (newsroom) await showSubscribers(req, res, newsroom, { removed: req.query.removed === '1', result: await takeFlash<InviteResult>(ctx, session, importFlash(newsroom)) });
  }));

  router.get('/subscribers/export', staff(async (_req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (newsroom) await sendSubscribersCsv(res, newsroom, exportSubscribers(ctx, newsroom));
  }));

  /** What came back from the address: bounces and complaints after the relay accepted. */
  router.get('/subscribers/:id/bounces', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const subscriber = await getSubscriberOf(ctx, newsroom, String(req.params.id));
    const lang = langOf(res);
    await show(req, res, historyView, t(lang, 'admin.bounces.history'), {
      timezone: newsroom.timezone,
      email: subscriber.email,
      hardBounces: subscriber.hardBounces,
      bounces: bounceItems(lang, await listSubscriberBounces(ctx.db, subscriber.id, HISTORY_SIZE)),
    });
  }));

  // The confirmation step, a page of its own so that it works without scripts.
  router.get('/subscribers/:id/remove', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const subscriber = await getSubscriberOf(ctx, newsroom, String(req.params.id));
    const lang = langOf(res);
    await show(req, res, confirmView, t(lang, 'admin.confirm.removeSubscriber.title'), {
      question: t(lang, 'admin.confirm.removeSubscriber.question', { email: subscriber.email }),
      button: t(lang, 'admin.confirm.removeSubscriber.button'),
      action: `/admin/subscribers/${encodeURIComponent(subscriber.id)}/remove`,
      cancel: '/admin/subscribers',
      danger: true,
    });
  }));

  router.post('/subscribers/:id/remove', post(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    await deleteSubscriber(ctx, await getSubscriberOf(ctx, newsroom, String(req.params.id)));
    res.redirect(303, '/admin/subscribers?removed=1');
  }));

  /** The rows of the uploaded CSV file, or what is wrong with it. */
  async function receiveCsv(req: Request, session: Session): Promise<{ rows: InviteRow[] } | UploadProblem> {
    const tempPath = await ctx.files.tempPath();
    try {
      const { file } = await receiveForm(req, { tempPath, maxFileBytes: INVITE_CSV_MAX_BYTES, beforeFile: checkUploadCsrf(ctx, req, session.id) });
      if (!file || file.size === 0) return { problem: 'noFile' };
      return readInviteCsv(await readFile(file.path));
    } catch (error) {
      // The upload's own refusals (too large, not a form with a file) are the field's errors too.
      if (!isShownRefusal(error)) throw error;
      return { problem: error.status === 413 ? 'tooLarge' : 'noFile' };
    } finally {
      await rm(tempPath, { force: true });
    }
  }

  // Multipart: the CSRF token is the form's first field, checked before the file is read.
  router.post('/subscribers/import', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const upload = await receiveCsv(req, session);
    if ('problem' in upload) {
      const message = t(langOf(res), `admin.subscribers.import.${upload.problem}`, {
        line: 'line' in upload ? upload.line : '',
        max: MAX_IMPORT.toLocaleString(langOf(res)),
        size: formatSize(langOf(res), INVITE_CSV_MAX_BYTES),
      });
      const importState = new FormState(langOf(res), new Map(), [{ path: 'file', message }]);
      return showSubscribers(req, res, newsroom, { importState }, upload.problem === 'tooLarge' ? 413 : 422);
    }
    // The result is shown on the page this redirects to: a reload there does not invite again.
    // Rows over the budget are listed there, with the time more can be invited.
    await setFlash(ctx, session, importFlash(newsroom), await inviteSubscribers(ctx, newsroom, upload.rows));
    res.redirect(303, '/admin/subscribers#import-result');
  }));
}
