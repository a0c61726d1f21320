import type { Job } from 'bullmq';
import type { AppContext } from '../context.js';
import { failureReply, isPermanentFailure, type SentMail } from '../lib/mailer.js';
import { isoTime } from '../lib/time.js';
import { returnPath } from '../bounces/return-path.js';
import { findNewsroomById, type Newsroom } from '../newsrooms/repository.js';
import { type PublicRelease, publicReleaseOrNone, publicVersion, releaseAtPublication } from '../releases/public.js';
import { recipientLinks } from './journalists.js';
import { deliveryMetrics } from './metrics.js';
import { MAX_ATTEMPTS, processOwner, retryDelayMs, sendLanes, SUPPRESS_AFTER_HARD_BOUNCES } from './policy.js';
import { composeTemplate, MessageCache, messageFor, type MessageTemplate } from './message.js';
import { renderReleaseEmail } from './render.js';
import {
  type ClaimedDelivery,
  claimDeliveries,
  recordFailed,
  recordHardBounce,
  recordRetries,
  recordSent,
  skipDeliveries,
} from './repository.js';
import { sendJobs, type SendJob } from './queue.js';

/*
 * One send job (or a fan-out's first page): claim its deliveries that are still queued
 * (one UPDATE: so nothing recorded is sent twice), send each through the SMTP pool, and
 * record the outcomes together (one UPDATE for those sent).
 */

/** The host of PUBLIC_URL: Message-IDs and the List-Id live under it. */
const hostOf = (publicUrl: string) => new URL(publicUrl).hostname;

/** The messages built in this process (per release, language and version): the prepare job fills it, every send of the process reads it. */
export const processMessages = new MessageCache();

export async function processSendJob(ctx: AppContext, cache: MessageCache, job: Job<SendJob>): Promise<void> {
  const { releaseId, deliveryIds } = job.data ?? {};
  if (typeof releaseId !== 'string' || !Array.isArray(deliveryIds)) return;
  const version = await publicVersion(ctx, releaseId);
  if (version === undefined) {
    // Withdrawn (or gone): whatever is still queued of it is never sent.
    const skipped = await skipDeliveries(ctx.db, { releaseId }, isoTime(ctx.clock.now()));
    if (skipped) ctx.logger.info({ releaseId, skipped }, 'release no longer public: deliveries skipped');
    return;
  }
  await sendDeliveries(ctx, cache, emailSource(ctx, releaseId, version), deliveryIds);
}

/**
 * A public release's email as a send needs it: its id and version name the built message;
 * the release and its newsroom are read only when this process has not built it yet.
 */
export interface EmailSource {
  id: string;
  version: number;
  load(): Promise<{ release: PublicRelease; newsroom: Newsroom }>;
}

/** The source of a release's email, reading the release (once) if it must be built; `release` when already read. */
export function emailSource(ctx: AppContext, id: string, version: number, release?: PublicRelease): EmailSource {
  let loaded: ReturnType<EmailSource['load']> | undefined;
  const read = async () => {
    const current = release ?? (await publicReleaseOrNone(ctx, id));
    const newsroom = current && (await findNewsroomById(ctx.db, current.newsroomId));
    if (!current || !newsroom) throw new Error('the release is no longer public');
    return { release: current, newsroom };
  };
  return { id, version, load: () => (loaded ??= read()) };
}

/**
 * Claims the deliveries of a public release that are still queued (one UPDATE: nothing
 * recorded is sent twice), sends them through the SMTP pool, and records the outcomes
 * together. A send job's work; the fan-out's first page, too, sent by the process that
 * wrote it, without the queue's hand-over.
 */
export async function sendDeliveries(ctx: AppContext, cache: MessageCache, source: EmailSource, deliveryIds: string[]): Promise<void> {
  const claimed = await claimDeliveries(ctx.db, deliveryIds, processOwner, isoTime(ctx.clock.now()));
  if (!claimed.length) return;

  // Unsubscribed (or erased) since the fan-out: not sent.
  const gone = claimed.filter((d) => d.subscriberStatus !== 'confirmed' || !d.email);
  if (gone.length) await skipDeliveries(ctx.db, { ids: gone.map((d) => d.id) }, isoTime(ctx.clock.now()));

  const recipients = claimed.filter((d) => !gone.includes(d));
  const outcomes: Outcome[] = [];
  // A few at a time, each taking the next when its message is accepted: the pool's
  // connections then take turns between the jobs and fan-outs sending at once, so that
  // one release's batch never waits behind the whole of another's.
  let next = 0;
  const lane = async () => {
    while (next < recipients.length) outcomes.push(await sendOne(ctx, cache, source, recipients[next++]!));
  };
  await Promise.all(Array.from({ length: Math.min(sendLanes(ctx.config), recipients.length) }, lane));
  await recordOutcomes(ctx, source.id, outcomes);
}

type Outcome =
  | { kind: 'sent'; delivery: ClaimedDelivery; sent: SentMail }
  | { kind: 'failed' | 'retry'; delivery: ClaimedDelivery; reply: string };

/**
 * Records a job's outcomes, one statement for all those sent. Until then its messages
 * are in flight: claimed (`sending`) and perhaps accepted, not recorded. A crash resends
 * at most those: SEND_CONCURRENCY jobs of sendBatchSize deliveries per worker process,
 * and the FIRST_PAGE of each release it is starting (policy.ts; 2 x 25 + 50 = 100 by default).
 */
async function recordOutcomes(ctx: AppContext, releaseId: string, outcomes: Outcome[]): Promise<void> {
  const now = isoTime(ctx.clock.now());
  const sent = outcomes.flatMap((o) => (o.kind === 'sent' ? [{ id: o.delivery.id, ...o.sent }] : []));
  await recordSent(ctx.db, sent, now);
  deliveryMetrics.sent.inc(sent.length);

  const failed = outcomes.flatMap((o) => (o.kind === 'failed' ? [o] : []));
  await recordFailed(ctx.db, failed.map((o) => ({ id: o.delivery.id, reply: o.reply })), now);
  for (const o of failed) {
    await recordHardBounce(ctx.db, o.delivery.subscriberId, SUPPRESS_AFTER_HARD_BOUNCES, now);
    ctx.logger.warn({ deliveryId: o.delivery.id, reply: o.reply }, 'delivery failed for good');
  }

  const temporary = outcomes.flatMap((o) => (o.kind === 'retry' ? [o] : []));
  const exhausted = new Set(
    await recordRetries(ctx.db, temporary.map((o) => ({ id: o.delivery.id, reply: o.reply, attempts: o.delivery.attempts })), MAX_ATTEMPTS, now),
  );
  for (const o of temporary) {
    const state = exhausted.has(o.delivery.id) ? 'failed' : 'queued';
    ctx.logger.warn({ deliveryId: o.delivery.id, reply: o.reply, attempts: o.delivery.attempts, state }, 'delivery failed for now');
  }
  deliveryMetrics.failed.inc(failed.length + exhausted.size);
  const retries = temporary.filter((o) => !exhausted.has(o.delivery.id)).map((o) => o.delivery);
  deliveryMetrics.retried.inc(retries.length);
  // Each retried delivery waits by its own attempt count; those of one count go together.
  const byAttempts = new Map<number, string[]>();
  for (const d of retries) byAttempts.set(d.attempts, [...(byAttempts.get(d.attempts) ?? []), d.id]);
  for (const [attempts, ids] of byAttempts) {
    await ctx.deliveries.addBulk(sendJobs(releaseId, ids, ids.length, `retry${attempts}`, { delay: retryDelayMs(attempts) }));
  }
}

/** A release's email in one language, built once per release, language and version; each recipient gets a copy of its bytes with their slots filled. */
function messageTemplate(ctx: AppContext, cache: MessageCache, source: EmailSource, lang: string): Promise<MessageTemplate> {
  return cache.get(`${source.id}|${lang}|${source.version}`, async () => {
    const { release, newsroom } = await source.load();
    const host = hostOf(ctx.config.publicUrl);
    const newsroomName = newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? newsroom.slug;
    return composeTemplate(await renderReleaseEmail(ctx, release, newsroom, lang), {
      fromName: newsroomName,
      fromAddress: ctx.config.mailFrom,
      host,
      listId: { url: `${newsroom.slug}.${host}`, comment: newsroomName },
    });
  });
}

/**
 * Builds a scheduled release's emails in every language shortly before its time, and
 * opens the SMTP pool's connections, so that the first send jobs find both ready. Kept in
 * this process only; an edit meanwhile makes another version, built when sent. Nothing is
 * sent or written.
 */
export async function processPrepareJob(ctx: AppContext, cache: MessageCache, job: Job<SendJob>): Promise<number> {
  const release = typeof job.data?.releaseId === 'string' ? await releaseAtPublication(ctx, job.data.releaseId) : undefined;
  if (!release) return 0;
  const source = emailSource(ctx, release.id, release.version, release);
  const [opened] = await Promise.all([
    // The SMTP connections too: the first send of the release then needs no handshake.
    ctx.mailer.warm().catch((err) => {
      ctx.logger.warn({ err }, 'could not open SMTP connections ahead');
      return 0;
    }),
    ...release.translations.map((tr) => messageTemplate(ctx, cache, source, tr.lang)),
  ]);
  ctx.logger.info({ releaseId: release.id, languages: release.translations.length, connectionsOpened: opened }, 'emails of a release due soon built');
  return release.translations.length;
}

async function sendOne(ctx: AppContext, cache: MessageCache, source: EmailSource, delivery: ClaimedDelivery): Promise<Outcome> {
  const host = hostOf(ctx.config.publicUrl);
  let template: MessageTemplate;
  try {
    template = await messageTemplate(ctx, cache, source, delivery.language);
  } catch (error) {
    // Not this recipient's fault: the delivery waits and is tried again.
    ctx.logger.error({ err: error, releaseId: source.id }, 'could not build the email of a release');
    return { kind: 'retry', delivery, reply: `email not built: ${(error as Error).message}` };
  }
  let raw: Buffer;
  try {
    // One Message-ID per delivery: a copy sent again after a crash is recognisably the same message.
    raw = messageFor(template, { address: delivery.email, messageIdLocal: delivery.id, date: ctx.clock.now(), links: recipientLinks(ctx, delivery) });
  } catch (error) {
    // An address that cannot stand in a header never will.
    return { kind: 'failed', delivery, reply: (error as Error).message };
  }
  // MAIL FROM names the delivery (BOUNCE_DOMAIN set), so that a later bounce finds it.
  const envelope = { from: returnPath(ctx.config, delivery.id) ?? ctx.config.mailFrom, to: delivery.email };
  try {
    const sent = await ctx.mailer.sendRaw({ raw, envelope, messageId: `<${delivery.id}@${host}>` });
    return { kind: 'sent', delivery, sent };
  } catch (error) {
    return { kind: isPermanentFailure(error) ? 'failed' : 'retry', delivery, reply: failureReply(error) };
  }
}
