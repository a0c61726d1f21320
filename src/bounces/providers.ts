import { z } from 'zod';
import type { Outcome } from './parse.js';
import type { BounceEvent } from './process.js';

/*
 * What each provider's webhook says, as the events of process.ts: the schemas of the
 * parts read (the rest is let through and ignored) and the mapping. Events that are no
 * bounce (delivered, opened, clicked ...) map to undefined.
 */

const address = z.string().max(320);
const text = (max: number) => z.string().max(max);

/** `<id@host>` from a Message-ID with or without its angle brackets. */
const messageIdOf = (value: string | undefined) => (value?.trim() ? [`<${value.trim().replace(/^<|>$/g, '')}>`] : []);

/** An enhanced status code in `text` (5.1.1), else the class of an SMTP reply code in it, else the outcome's. */
function statusOf(text: string | undefined, outcome: Outcome): string {
  const enhanced = /\b[245]\.\d{1,3}\.\d{1,3}\b/.exec(text ?? '')?.[0];
  if (enhanced) return enhanced;
  const reply = /\b([245])\d\d\b/.exec(text ?? '')?.[1];
  return reply ? `${reply}.0.0` : outcome === 'transient' ? '4.0.0' : '5.0.0';
}

const reasonOf = (...parts: (string | number | undefined)[]) =>
  parts.filter((p) => p !== undefined && p !== '').join(' ').replace(/\s+/g, ' ').trim().slice(0, 500);

/* ---------------------------------------------------------------- Mailgun */

/** Mailgun's event (the parts read), https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/ */
export const mailgunEvent = z.object({
  signature: z.object({ timestamp: z.string().regex(/^\d{1,12}$/), token: z.string().min(1).max(200), signature: z.string().regex(/^[0-9a-f]{64}$/) }),
  'event-data': z
    .object({
      event: text(40),
      severity: text(40).optional(),
      recipient: address.optional(),
      reason: text(200).optional(),
      'delivery-status': z.object({ code: z.number().optional(), message: text(2000).optional(), description: text(2000).optional() }).loose().optional(),
      envelope: z.object({ sender: address.optional() }).loose().optional(),
      message: z.object({ headers: z.object({ 'message-id': text(500).optional(), subject: text(2000).optional() }).loose().optional() }).loose().optional(),
    })
    .loose(),
});

export function fromMailgun(data: z.output<typeof mailgunEvent>['event-data']): BounceEvent | undefined {
  const status = data['delivery-status'];
  const code = status?.code ? String(status.code) : '';
  const outcome =
    data.event === 'complained' ? 'complaint' : data.event === 'failed' ? (data.severity === 'temporary' ? 'transient' : 'permanent') : undefined;
  if (!outcome) return undefined;
  return {
    source: 'mailgun',
    outcome,
    recipient: data.recipient?.toLowerCase(),
    status: outcome === 'complaint' ? 'abuse' : statusOf(code, outcome),
    reason: reasonOf(code, status?.message || status?.description || data.reason) || data.event,
    returnPaths: data.envelope?.sender ? [data.envelope.sender] : [],
    messageIds: messageIdOf(data.message?.headers?.['message-id']),
    subject: data.message?.headers?.subject?.slice(0, 200),
  };
}

/* ---------------------------------------------------------------- Amazon SES (through SNS) */

/** The SNS message around it (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html). */
export const snsMessage = z.object({
  Type: text(40),
  MessageId: text(100),
  TopicArn: text(300),
  Message: text(300_000),
  Timestamp: text(40),
  Subject: text(200).nullable().optional(),
  SubscribeURL: text(2000).optional(),
  Token: text(2000).optional(),
  SignatureVersion: text(4).optional(),
  Signature: text(2000).optional(),
  SigningCertURL: text(2000).optional(),
  UnsubscribeURL: text(2000).optional(),
});

/**
 * SES's notification (the SNS Message), as notifications (`notificationType`) or event
 * publishing (`eventType`) send it: https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
 */
const sesNotification = z
  .object({
    notificationType: text(40).optional(),
    eventType: text(40).optional(),
    bounce: z
      .object({
        bounceType: text(40),
        bounceSubType: text(80).optional(),
        bouncedRecipients: z
          .array(z.object({ emailAddress: address, action: text(40).optional(), status: text(40).optional(), diagnosticCode: text(2000).optional() }).loose())
          .max(100),
      })
      .loose()
      .optional(),
    complaint: z
      .object({ complainedRecipients: z.array(z.object({ emailAddress: address }).loose()).max(100), complaintFeedbackType: text(80).optional() })
      .loose()
      .optional(),
    mail: z
      .object({
        source: address.optional(),
        headers: z.array(z.object({ name: text(200), value: text(2000) })).max(200).optional(),
        commonHeaders: z.object({ messageId: text(500).optional(), subject: text(2000).optional() }).loose().optional(),
      })
      .loose(),
  })
  .loose();

/** SES's notification as ours; undefined for what is no bounce (Delivery, Send, Open ...) or not read. */
export function fromSes(message: string): BounceEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return undefined;
  }
  const parsed = sesNotification.safeParse(json);
  if (!parsed.success) return undefined;
  const { bounce, complaint, mail, ...rest } = parsed.data;
  const type = rest.notificationType ?? rest.eventType;
  const header = mail.headers?.find((h) => h.name.toLowerCase() === 'message-id')?.value;
  const common = {
    source: 'ses' as const,
    returnPaths: mail.source ? [mail.source] : [],
    messageIds: [...new Set([...messageIdOf(header), ...messageIdOf(mail.commonHeaders?.messageId)])],
    subject: mail.commonHeaders?.subject?.slice(0, 200),
  };
  if (type === 'Complaint' && complaint) {
    const feedback = complaint.complaintFeedbackType ?? 'abuse';
    return { ...common, outcome: 'complaint', recipient: complaint.complainedRecipients[0]?.emailAddress.toLowerCase(), status: feedback.slice(0, 40), reason: `complaint: ${feedback}` };
  }
  if (type === 'Bounce' && bounce) {
    // Ours go to one recipient each.
    const recipient = bounce.bouncedRecipients[0];
    // Undetermined: SES could not tell; counted as transient, so that only a run of them suppresses.
    const outcome: Outcome = bounce.bounceType === 'Permanent' ? 'permanent' : 'transient';
    return {
      ...common,
      outcome,
      recipient: recipient?.emailAddress.toLowerCase(),
      status: statusOf(recipient?.status ?? recipient?.diagnosticCode, outcome),
      reason: reasonOf(recipient?.diagnosticCode?.replace(/^[^;]*;\s*/, '') || `${bounce.bounceType} ${bounce.bounceSubType ?? ''}`),
    };
  }
  return undefined;
}

/* ---------------------------------------------------------------- Postmark */

/**
 * Postmark's bounce and spam complaint webhooks (https://postmarkapp.com/developer/webhooks/bounce-webhook,
 * .../spam-complaint-webhook). `Content` is the returned message itself when the webhook
 * has "Include bounce content" on: the original's Message-ID is read from it.
 */
export const postmarkEvent = z
  .object({
    RecordType: text(40),
    Type: text(60).optional(),
    TypeCode: z.number().optional(),
    Email: address.optional(),
    Description: text(2000).optional(),
    Details: text(2000).optional(),
    Subject: text(2000).optional(),
    From: address.optional(),
    Content: text(4 * 1024 * 1024).optional(),
  })
  .loose();

/** Postmark's bounce types (https://postmarkapp.com/developer/api/bounce-api#bounce-types) that say something about the address. */
const POSTMARK_TYPES: Record<string, Outcome> = {
  HardBounce: 'permanent',
  BadEmailAddress: 'permanent',
  SoftBounce: 'transient',
  DnsError: 'transient',
  Transient: 'delayed',
  SpamComplaint: 'complaint',
};

/** Postmark's event as ours, without the original's Message-ID (see messageIdsOfContent in routes). */
export function fromPostmark(event: z.output<typeof postmarkEvent>): BounceEvent | undefined {
  const outcome = event.RecordType === 'SpamComplaint' ? 'complaint' : event.RecordType === 'Bounce' ? POSTMARK_TYPES[event.Type ?? ''] : undefined;
  if (!outcome) return undefined;
  return {
    source: 'postmark',
    outcome,
    recipient: event.Email?.toLowerCase(),
    status: outcome === 'complaint' ? 'abuse' : statusOf(event.Details, outcome),
    reason: reasonOf(event.Details || event.Description) || event.Type || event.RecordType,
    returnPaths: [],
    messageIds: [],
    subject: event.Subject?.slice(0, 200),
  };
}

/* ---------------------------------------------------------------- SendGrid */

/** SendGrid's Event Webhook: a list of events (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event). */
export const sendgridEvents = z
  .array(
    z
      .object({
        event: text(40),
        email: address.optional(),
        'smtp-id': text(500).optional(),
        type: text(40).optional(),
        status: text(40).optional(),
        reason: text(2000).optional(),
        response: text(2000).optional(),
      })
      .loose(),
  )
  .max(10_000);

export function fromSendgrid(event: z.output<typeof sendgridEvents>[number]): BounceEvent | undefined {
  // A `bounce` of type `blocked` is a refusal SendGrid does not count against the address (a block list, content).
  const outcome: Outcome | undefined =
    event.event === 'spamreport'
      ? 'complaint'
      : event.event === 'bounce'
        ? event.type === 'blocked' || event.status?.startsWith('4') ? 'transient' : 'permanent'
        : event.event === 'deferred'
          ? 'delayed'
          : undefined;
  if (!outcome) return undefined;
  return {
    source: 'sendgrid',
    outcome,
    recipient: event.email?.toLowerCase(),
    status: outcome === 'complaint' ? 'abuse' : statusOf(event.status ?? event.reason, outcome),
    reason: reasonOf(event.reason || event.response) || event.event,
    returnPaths: [],
    messageIds: messageIdOf(event['smtp-id']),
  };
}
