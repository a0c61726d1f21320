import type { Job, JobsOptions } from 'bullmq';
import type { AppContext } from '../context.js';
import { publicReleaseOrNone } from '../releases/public.js';
import { MAX_ATTEMPTS, processOwner, retryDelayMs } from '../delivery/policy.js';
import type { SendJob } from '../delivery/queue.js';
import { t } from '../lib/i18n.js';
import { failureReply, headerText, isPermanentFailure } from '../lib/mailer.js';
import { template } from '../lib/templates.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomById, type Newsroom } from '../newsrooms/repository.js';
import { withdrawal } from '../releases/public.js';
import { releasePageUrl } from '../site/urls.js';
import { recipientLinks } from '../delivery/journalists.js';
import { type ClaimedNotice, claimNotices, settleNotice } from './repository.js';

/*
 * Sending correction notices: jobs on the delivery queue (name `notice`, ids only), each
 * claiming its queued notices so that none goes twice, sending each through the mailer in
 * the recipient's delivery language, and recording the outcome. A notice of a correction
 * to a release withdrawn meanwhile is skipped: its withdrawal is the news then.
 */

export const NOTICE_JOB = 'notice';

/** The deliveries of one release whose recipients are told of one correction. */
export interface NoticeJob extends SendJob {
  correctionId: string;
}

/** Notice jobs of `size` recipients each; `kind` starts the id (no ':'), as sendJobs'. */
export function noticeJobs(releaseId: string, correctionId: string, deliveryIds: string[], size: number, kind: string, options: JobsOptions = {}) {
  const jobs = [];
  for (let i = 0; i < deliveryIds.length; i += size) {
    const ids = deliveryIds.slice(i, i + size);
    jobs.push({
      name: NOTICE_JOB,
      data: { releaseId, correctionId, deliveryIds: ids } satisfies NoticeJob,
      opts: {
        jobId: `${kind}-${correctionId}-${ids[0]}-${ids.length}`,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600, count: 1000 },
        ...options,
      },
    });
  }
  return jobs;
}

/** What a notice tells, per language: the release's title and address, and the note or reason. */
interface NoticeSubject {
  kind: 'correction' | 'withdrawal';
  newsroom: Newsroom;
  languages: string[];
  titles: Record<string, string>;
  notes: Record<string, string>;
}

async function noticeSubject(ctx: AppContext, releaseId: string, correctionId: string): Promise<NoticeSubject | undefined> {
  const release = await publicReleaseOrNone(ctx, releaseId);
  const correction = release?.corrections.find((c) => c.id === correctionId && c.kind === 'correction');
  if (release && correction) {
    const newsroom = await findNewsroomById(ctx.db, release.newsroomId);
    const titles = Object.fromEntries(release.translations.map((tr) => [tr.lang, tr.title]));
    return newsroom && { kind: 'correction', newsroom, languages: Object.keys(titles), titles, notes: correction.note };
  }
  const withdrawn = release ? undefined : await withdrawal(ctx, releaseId);
  if (!withdrawn) return undefined;
  const newsroom = await findNewsroomById(ctx.db, withdrawn.newsroomId);
  return newsroom && { kind: 'withdrawal', newsroom, languages: withdrawn.languages, titles: withdrawn.titles, notes: withdrawn.reason };
}

/** The notice to one recipient, in `lang` (else the release's first language). */
export function renderNotice(ctx: AppContext, subject: NoticeSubject, releaseId: string, lang: string, links: { unsubscribe: string; preferences: string }) {
  const language = subject.languages.includes(lang) ? lang : subject.languages[0]!;
  const title = subject.titles[language]!;
  const newsroomName = subject.newsroom.name[language] ?? subject.newsroom.name[subject.newsroom.languages[0]!] ?? subject.newsroom.slug;
  const model = {
    lang: language,
    subject: headerText(t(language, `email.notice.subject.${subject.kind}`, { title })),
    intro: t(language, `email.notice.intro.${subject.kind}`, { newsroom: newsroomName }),
    title,
    note: subject.notes[language] ?? subject.languages.map((l) => subject.notes[l]).find(Boolean) ?? '',
    noteLabel: t(language, subject.kind === 'correction' ? 'email.notice.note' : 'email.notice.reason'),
    linkLabel: t(language, 'email.notice.link'),
    url: releasePageUrl(ctx.config.publicUrl, subject.newsroom.slug, language, releaseId, title),
    why: t(language, 'email.notice.why'),
    unsubscribeUrl: links.unsubscribe,
    preferencesUrl: links.preferences,
  };
  return { newsroomName, subject: model.subject, html: template('email/notice.html.hbs')(model), text: template('email/notice.txt.hbs')(model) };
}

export async function processNoticeJob(ctx: AppContext, job: Job<NoticeJob>): Promise<void> {
  const { releaseId, correctionId, deliveryIds } = job.data ?? {};
  if (typeof releaseId !== 'string' || typeof correctionId !== 'string' || !Array.isArray(deliveryIds)) return;
  const subject = await noticeSubject(ctx, releaseId, correctionId);
  const claimed = await claimNotices(ctx.db, correctionId, deliveryIds, processOwner, isoTime(ctx.clock.now()));
  const retries: string[] = [];
  for (const notice of claimed) {
    const now = () => isoTime(ctx.clock.now());
    // Nothing to tell any more (the release was withdrawn since), or the subscriber left: not sent.
    if (!subject || notice.subscriberStatus !== 'confirmed' || !notice.email) {
      await settleNotice(ctx.db, correctionId, notice.deliveryId, { status: 'skipped' }, now());
      continue;
    }
    const outcome = await sendNotice(ctx, subject, releaseId, correctionId, notice);
    if (outcome.status === 'queued') retries.push(notice.deliveryId);
    await settleNotice(ctx.db, correctionId, notice.deliveryId, outcome, now());
  }
  const attempts = Math.max(1, ...claimed.map((n) => n.attempts));
  await ctx.deliveries.addBulk(
    noticeJobs(releaseId, correctionId, retries, retries.length || 1, `noticeretry${attempts}`, { delay: retryDelayMs(attempts) }),
  );
}

async function sendNotice(ctx: AppContext, subject: NoticeSubject, releaseId: string, correctionId: string, notice: ClaimedNotice) {
  const host = new URL(ctx.config.publicUrl).hostname;
  const links = recipientLinks(ctx, notice);
  const mail = renderNotice(ctx, subject, releaseId, notice.language, links);
  // The release's own email had Message-ID <deliveryId@host>: the notice answers it.
  const original = `<${notice.deliveryId}@${host}>`;
  try {
    const sent = await ctx.mailer.send({
      from: { name: mail.newsroomName, address: ctx.config.mailFrom },
      to: notice.email,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      messageId: `<${correctionId}.${notice.deliveryId}@${host}>`,
      inReplyTo: original,
      references: [original],
      date: ctx.clock.now(),
      list: { id: { url: `${subject.newsroom.slug}.${host}`, comment: mail.newsroomName }, unsubscribe: { url: links.unsubscribe } },
      headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    });
    return { status: 'sent' as const, response: sent.response, messageId: sent.messageId };
  } catch (error) {
    const reply = failureReply(error);
    ctx.logger.warn({ correctionId, deliveryId: notice.deliveryId, reply }, 'correction notice not sent');
    if (isPermanentFailure(error) || notice.attempts >= MAX_ATTEMPTS) return { status: 'failed' as const, response: reply };
    return { status: 'queued' as const, response: reply };
  }
}
