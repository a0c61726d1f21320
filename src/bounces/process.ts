import type { AppContext } from '../context.js';
import { recordHardBounce } from '../delivery/repository.js';
import { SUPPRESS_AFTER_HARD_BOUNCES } from '../delivery/policy.js';
import { isoTime } from '../lib/time.js';
import { markUnsubscribed } from '../subscriptions/repository.js';
import { bounceMetrics } from './metrics.js';
import { BounceTooLarge, type Outcome, parseBounce, type RecipientReport } from './parse.js';
import { MAX_KEPT_CHARS, TRANSIENT_RUN_COUNT, TRANSIENT_RUN_DAYS, TRANSIENT_WINDOW_DAYS } from './policy.js';
import {
  type BouncedDelivery,
  findDelivery,
  findDeliveryByMessageId,
  insertBounce,
  markDeliveryReturned,
  transientRun,
} from './repository.js';
import { checkReturnPath } from './return-path.js';

/*
 * Every way a bounce comes in (the SMTP receiver, the IMAP mailbox, provider webhooks) ends here, as a
 * returned message or as an event: find the delivery it is about, then record it once.
 * The delivery is found by the signed return path (VERP); failing that, by the original
 * Message-ID, and then only if the bounce names the same recipient. A return path at our
 * domain with a bad signature is forged: it changes nothing and is logged.
 */

export type Source = 'smtp' | 'imap' | 'mailgun' | 'ses' | 'postmark' | 'sendgrid';

export interface BounceEvent {
  source: Source;
  outcome: Outcome;
  /** The recipient the event is about, when it says. */
  recipient?: string;
  status: string;
  reason: string;
  /** Candidate return paths (the envelope sender the provider saw); verified here. */
  returnPaths: string[];
  /** The original Message-ID, with angle brackets. */
  messageIds: string[];
  subject?: string;
  sender?: string;
}

export type Handled = 'recorded' | 'repeated' | 'ignored' | 'forged' | 'unmatched' | 'unclassified';

type Match = { kind: 'delivery'; delivery: BouncedDelivery } | { kind: 'forged' } | { kind: 'none' };

async function findBouncedDelivery(ctx: AppContext, event: Pick<BounceEvent, 'returnPaths' | 'messageIds' | 'recipient'>): Promise<Match> {
  let forged = false;
  for (const address of event.returnPaths) {
    const check = checkReturnPath(ctx.config, address);
    if (check.kind === 'forged') forged = true;
    if (check.kind !== 'delivery') continue;
    const delivery = await findDelivery(ctx.db, check.deliveryId);
    // Signed by us, yet unknown: a delivery of another installation with the same secret, or since erased.
    if (delivery) return { kind: 'delivery', delivery };
  }
  if (forged) return { kind: 'forged' };
  for (const messageId of event.messageIds) {
    const delivery = await findDeliveryByMessageId(ctx.db, messageId);
    // A Message-ID is no secret (the recipient has it): it counts only with the same recipient.
    if (delivery && (!event.recipient || !delivery.email || delivery.email === event.recipient.toLowerCase())) {
      return { kind: 'delivery', delivery };
    }
  }
  return { kind: 'none' };
}

/** Records what a bounce did to its delivery and subscriber, once. */
export async function applyBounce(ctx: AppContext, event: BounceEvent): Promise<Handled> {
  const count = (handled: Handled) => {
    bounceMetrics.inc({ source: event.source, outcome: handled === 'recorded' ? event.outcome : handled });
    return handled;
  };
  if (event.outcome === 'delayed') return count('ignored');
  const match = await findBouncedDelivery(ctx, event);
  const now = isoTime(ctx.clock.now());
  const common = { source: event.source, status: event.status, reason: event.reason, subject: event.subject, sender: event.sender };
  if (match.kind === 'forged') {
    ctx.logger.warn({ source: event.source, returnPaths: event.returnPaths }, 'bounce with a forged return path ignored');
    return count('forged');
  }
  if (match.kind === 'none') {
    await insertBounce(ctx.db, { ...common, outcome: 'unmatched' }, now);
    ctx.logger.info({ source: event.source, outcome: event.outcome }, 'bounce names no delivery: kept for staff');
    return count('unmatched');
  }
  const { delivery } = match;
  const first = await insertBounce(ctx.db, { ...common, outcome: event.outcome, deliveryId: delivery.id, subscriberId: delivery.subscriberId }, now);
  if (!first) return count('repeated');
  if (event.outcome === 'permanent') {
    await markDeliveryReturned(ctx.db, delivery.id, 'bounced', event.reason, now);
    await recordHardBounce(ctx.db, delivery.subscriberId, SUPPRESS_AFTER_HARD_BOUNCES, now);
  } else if (event.outcome === 'complaint') {
    await markDeliveryReturned(ctx.db, delivery.id, 'complained', event.reason, now);
    await markUnsubscribed(ctx.db, delivery.subscriberId, now);
  } else {
    const day = 86_400_000;
    const since = isoTime(new Date(ctx.clock.now().getTime() - TRANSIENT_WINDOW_DAYS * day));
    if (await transientRun(ctx.db, delivery.subscriberId, since, TRANSIENT_RUN_COUNT, TRANSIENT_RUN_DAYS * day)) {
      await markUnsubscribed(ctx.db, delivery.subscriberId, now);
    }
  }
  ctx.logger.info({ source: event.source, deliveryId: delivery.id, outcome: event.outcome, status: event.status }, 'bounce recorded');
  return count('recorded');
}

/** The report that decides: ours go to one recipient each, so the first failure, else the first. */
const decisive = (reports: RecipientReport[]) => reports.find((r) => r.outcome !== 'delayed') ?? reports[0]!;

/**
 * A returned message (DSN, ARF complaint, or anything else that came back). `envelopeTo`:
 * the addresses it was delivered to, when the receiver knows them (SMTP RCPT TO).
 */
export async function handleReturnedMessage(ctx: AppContext, source: Source, raw: Buffer, envelopeTo: string[] = []): Promise<Handled> {
  let parsed;
  try {
    parsed = await parseBounce(raw);
  } catch (error) {
    if (!(error instanceof BounceTooLarge)) ctx.logger.warn({ source, error: (error as Error).message }, 'returned message not readable');
    parsed = undefined;
  }
  if (!parsed?.reports.length) {
    // Not a report we read (or not readable): kept, as text and shortened, for staff to look at.
    await insertBounce(
      ctx.db,
      { source, outcome: 'unclassified', subject: parsed?.subject, sender: parsed?.from, message: raw.subarray(0, MAX_KEPT_CHARS * 4).toString('utf8').slice(0, MAX_KEPT_CHARS) },
      isoTime(ctx.clock.now()),
    );
    bounceMetrics.inc({ source, outcome: 'unclassified' });
    return 'unclassified';
  }
  const report = decisive(parsed.reports);
  return applyBounce(ctx, {
    source,
    outcome: report.outcome,
    recipient: report.recipient,
    status: report.status,
    reason: report.reason,
    returnPaths: [...envelopeTo, ...parsed.returnPaths],
    messageIds: parsed.messageIds,
    subject: parsed.subject,
    sender: parsed.from,
  });
}
