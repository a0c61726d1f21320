/** The tunables of bounce handling in one place (see README.md in this folder). */

/** The largest returned message read (SMTP receiver, mailbox, webhook): a DSN with the full original fits. */
export const MAX_BOUNCE_BYTES = 2 * 1024 * 1024;
/** Reasons kept (Diagnostic-Code and the like) are one line, at most this long. */
export const MAX_REASON_CHARS = 500;
/** An unclassified message is kept for staff up to this many characters. */
export const MAX_KEPT_CHARS = 64 * 1024;

/**
 * Transient bounces (4.x.x after the remote server gave up) suppress an address only in
 * a run: on this many deliveries, the first at least TRANSIENT_RUN_DAYS before the last,
 * all within TRANSIENT_WINDOW_DAYS.
 */
export const TRANSIENT_RUN_COUNT = 3;
export const TRANSIENT_RUN_DAYS = 3;
export const TRANSIENT_WINDOW_DAYS = 30;

/** The SMTP receiver: connections one client address may open a minute, and clients at once. */
export const RECEIVER_CONNECTIONS_PER_MINUTE = 60;
export const RECEIVER_MAX_CLIENTS = 50;

/** Provider webhooks: calls one client address may make a minute, and how old a signed event may be. */
export const WEBHOOK_REQUESTS_PER_MINUTE = 600;
export const WEBHOOK_MAX_AGE_S = 600;

/**
 * Webhook bodies read at most: an SNS message is at most 256 KB; SendGrid posts batches
 * of up to 768 KB; a Postmark bounce may carry the returned message (up to
 * MAX_BOUNCE_BYTES, longer as a JSON string), read only once its credentials passed.
 */
export const WEBHOOK_BODY_LIMITS = { ses: 512 * 1024, sendgrid: 1024 * 1024, postmark: 3 * MAX_BOUNCE_BYTES };

/** The bounce mailbox: messages read in one poll at most (the rest wait for the next). */
export const MAX_MAILBOX_MESSAGES_PER_POLL = 500;
