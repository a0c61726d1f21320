import type { Job } from 'bullmq';
import type { AppContext } from '../context.js';
import { t } from '../lib/i18n.js';
import { type BestEffortQueue, createBestEffortQueue, type QueueSettings, type RunningWorker, startQueueWorker } from '../lib/queue.js';
import { template } from '../lib/templates.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import { confirmSubscriptionUrl } from '../site/urls.js';
import { newConfirmationToken } from './links.js';
import {
  claimConfirmation,
  deleteAbandonedPending,
  deleteInvitationsBefore,
  findConfirmation,
  findSubscriber,
  markConfirmationFailed,
  markConfirmationSent,
  releaseConfirmation,
  unsentConfirmationIds,
} from './repository.js';

/*
 * Confirmation emails leave from a queue, never from the request (the answer to a
 * subscribe request must not tell, by its timing, whether mail was sent). A job carries a
 * confirmation id only; the database says what is still to send, and the sweep re-queues
 * whatever Redis lost.
 */
export const SUBSCRIPTION_MAIL_QUEUE = 'subscription-mail';
export const CONFIRMATION_VALID_MS = 7 * 24 * 3600_000;
/** A claim this old belongs to a worker that died before sending. */
const CLAIM_STALE_MS = 5 * 60_000;
/** Confirmation emails not sent within this are given up (nobody waits that long for one). */
const GIVE_UP_AFTER_MS = 24 * 3600_000;
const SWEEP_EVERY_MS = 30_000;
/**
 * Staff invite no address asked to confirm within this time, by any newsroom or form;
 * a newsroom's invitation budget counts its invitations within it.
 */
export const INVITATION_WINDOW_MS = 24 * 3600_000;

export interface ConfirmationJob {
  confirmationId: string;
}

export type SubscriptionMailQueue = BestEffortQueue<ConfirmationJob>;

export const createSubscriptionMailQueue = (settings: QueueSettings): SubscriptionMailQueue =>
  createBestEffortQueue<ConfirmationJob>(SUBSCRIPTION_MAIL_QUEUE, settings);

const jobOptions = (confirmationId: string) => ({
  jobId: `confirm-${confirmationId}`,
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  // Gone once done either way, so that the sweep can queue the id again if it is still unsent.
  removeOnComplete: true,
  removeOnFail: true,
});

export const queueConfirmationEmails = (queue: SubscriptionMailQueue, ids: readonly string[]) =>
  queue.addBulk(ids.map((confirmationId) => ({ name: 'confirm', data: { confirmationId }, opts: jobOptions(confirmationId) })));

export interface ConfirmationEmail {
  subject: string;
  html: string;
  text: string;
}

/**
 * The double opt-in email. `invited`: staff invited the address (a CSV upload), so it
 * says that the newsroom invites the reader, not that someone asked.
 */
export async function renderConfirmationEmail(data: {
  lang: string;
  newsroomName: string;
  email: string;
  confirmUrl: string;
  invited?: boolean;
  /** The newsroom's brand colour for the button (dark enough for white text). */
  accent?: string;
}): Promise<ConfirmationEmail> {
  const mjml = template('email/confirm.mjml')(data);
  // Loaded on first use: it is large, and a web-only process never sends.
  const { default: mjml2html } = await import('mjml');
  const { html, errors } = await mjml2html(mjml, { validationLevel: 'strict' });
  if (errors?.length) throw new Error(`confirmation email MJML: ${errors.map((e) => e.formattedMessage).join('; ')}`);
  return {
    subject: t(data.lang, data.invited ? 'subscriptions.invitationEmail.subject' : 'subscriptions.email.subject', { newsroom: data.newsroomName }),
    html,
    text: template('email/confirm.txt.hbs')(data),
  };
}

/**
 * Sends one recorded confirmation email, if it is still unsent and this worker wins the
 * claim. Its token is made here, so that only the email ever holds it.
 */
export async function sendConfirmationEmail(ctx: AppContext, confirmationId: string): Promise<'sent' | 'skipped' | 'failed'> {
  const confirmation = await findConfirmation(ctx.db, confirmationId);
  if (!confirmation || confirmation.sent_at || confirmation.failed_at) return 'skipped';
  const subscriber = await findSubscriber(ctx.db, confirmation.subscriber_id);
  const newsroom = subscriber && (await findNewsroomById(ctx.db, subscriber.newsroomId));
  if (!subscriber || !newsroom) return 'skipped';

  const now = ctx.clock.now();
  const { token, hash } = newConfirmationToken();
  const claimed = await claimConfirmation(ctx.db, confirmationId, {
    tokenHash: hash,
    now: isoTime(now),
    expiresAt: isoTime(new Date(now.getTime() + CONFIRMATION_VALID_MS)),
    staleBefore: isoTime(new Date(now.getTime() - CLAIM_STALE_MS)),
  });
  if (!claimed) return 'skipped';
  try {
    const lang = confirmation.lang;
    const newsroomName = newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? newsroom.slug;
    const email = await renderConfirmationEmail({
      lang,
      newsroomName,
      email: subscriber.email,
      confirmUrl: confirmSubscriptionUrl(ctx.config.publicUrl, token),
      invited: confirmation.source === 'invitation',
      accent: newsroom.brandColor ?? undefined,
    });
    await ctx.mailer.send({
      from: { name: newsroomName, address: ctx.config.mailFrom },
      to: subscriber.email,
      subject: email.subject,
      html: email.html,
      text: email.text,
      // One id per confirmation: a copy sent again after a crash is recognisably the same message.
      messageId: `<${confirmationId}.confirm@${new URL(ctx.config.publicUrl).hostname}>`,
      headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': lang },
    });
  } catch (err) {
    const smtp = err as { responseCode?: number; response?: string; message?: string };
    if (smtp.responseCode !== undefined && smtp.responseCode >= 500) {
      // Permanent: retrying would only knock on the same closed door.
      await markConfirmationFailed(ctx.db, confirmationId, isoTime(ctx.clock.now()), smtp.response ?? smtp.message ?? String(err));
      ctx.logger.warn({ confirmationId, responseCode: smtp.responseCode }, 'confirmation email refused for good');
      return 'failed';
    }
    await releaseConfirmation(ctx.db, confirmationId);
    throw err;
  }
  await markConfirmationSent(ctx.db, confirmationId, isoTime(ctx.clock.now()));
  return 'sent';
}

/** Re-queues confirmation emails recorded and not sent, and forgets addresses that never confirmed. */
export async function sweepConfirmations(ctx: AppContext): Promise<number> {
  const now = ctx.clock.now().getTime();
  const ids = await unsentConfirmationIds(ctx.db, isoTime(new Date(now - GIVE_UP_AFTER_MS)), isoTime(new Date(now - CLAIM_STALE_MS)));
  await queueConfirmationEmails(ctx.subscriptionMail, ids);
  await deleteAbandonedPending(ctx.db, isoTime(new Date(now - CONFIRMATION_VALID_MS - GIVE_UP_AFTER_MS)));
  await deleteInvitationsBefore(ctx.db, isoTime(new Date(now - INVITATION_WINDOW_MS)));
  return ids.length;
}

export async function startSubscriptionMailWorker(ctx: AppContext): Promise<RunningWorker> {
  const { logger } = ctx;
  const worker = startQueueWorker<ConfirmationJob>(
    SUBSCRIPTION_MAIL_QUEUE,
    ctx.queueSettings,
    async (job: Job<ConfirmationJob>) => {
      if (typeof job.data?.confirmationId !== 'string') return 'skipped';
      return sendConfirmationEmail(ctx, job.data.confirmationId);
    },
    { concurrency: 4 },
  );
  const sweep = () =>
    sweepConfirmations(ctx)
      .then((queued) => queued && logger.info({ queued }, 'unsent confirmation emails re-queued'))
      .catch((err) => logger.error({ err }, 'confirmation email sweep failed'));
  const sweeper = setInterval(sweep, SWEEP_EVERY_MS);
  // A (re)connection may be to a Redis that lost its jobs.
  ctx.subscriptionMail.onReady(() => void sweep());
  // Not awaited: start-up returns at once, so the process installs its signal handlers without delay.
  void sweep();
  logger.info('subscription mail worker started');
  return {
    name: 'subscription-mail',
    async close() {
      clearInterval(sweeper);
      await worker.closeAll();
    },
  };
}
