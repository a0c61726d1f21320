import type { ImapFlow } from 'imapflow';
import type { AppContext } from '../context.js';
import type { RunningWorker } from '../lib/queue.js';
import { MAX_BOUNCE_BYTES, MAX_MAILBOX_MESSAGES_PER_POLL } from './policy.js';
import { handleReturnedMessage } from './process.js';

/*
 * The bounce mailbox (BOUNCE_IMAP_URL): for a relay that returns bounces to a mailbox
 * of its own rather than to our SMTP receiver. The worker reads it over IMAP (imapflow)
 * every BOUNCE_IMAP_INTERVAL_S; each message goes where the receiver's do (process.ts),
 * and once recorded is moved to BOUNCE_IMAP_MOVE_TO, or deleted. A message that could
 * not be recorded (the database away) stays for the next poll. With several workers,
 * each polls: a bounce read twice is recorded once per delivery (process.ts), though a
 * message that is no report may be kept twice.
 */

/** What one poll did, for the log and the tests. */
export interface MailboxPoll {
  read: number;
  failed: number;
}

/** imapflow is loaded at the first poll: a worker without BOUNCE_IMAP_URL never holds it. */
async function clientOf(url: string): Promise<{ client: ImapFlow; mailbox: string }> {
  const { ImapFlow } = await import('imapflow');
  const parsed = new URL(url);
  const secure = parsed.protocol === 'imaps:';
  const client = new ImapFlow({
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : secure ? 993 : 143,
    secure,
    auth: { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) },
    logger: false,
    // The service does not wait for a dead server: a poll is tried again next time.
    connectionTimeout: 30_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  return { client, mailbox: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'INBOX' };
}

/** Reads the bounce mailbox once: each message recorded, then moved or deleted. */
export async function pollBounceMailbox(ctx: AppContext): Promise<MailboxPoll> {
  const settings = ctx.config.bounceImap;
  if (!settings) return { read: 0, failed: 0 };
  const { client, mailbox } = await clientOf(settings.url);
  // A connection dropped mid-poll is an 'error' event; without a listener it would end the process.
  client.on('error', (error: Error) => ctx.logger.warn({ error: error.message }, 'bounce mailbox: connection error'));
  await client.connect();
  const result = { read: 0, failed: 0 };
  try {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const uids = (await client.search({ all: true }, { uid: true })) || [];
      for (const uid of uids.slice(0, MAX_MAILBOX_MESSAGES_PER_POLL)) {
        // One byte past the limit: a longer message is read no further, and kept as unclassified.
        const message = await client.fetchOne(String(uid), { source: { start: 0, maxLength: MAX_BOUNCE_BYTES + 1 } }, { uid: true });
        if (!message || !message.source) continue;
        try {
          await handleReturnedMessage(ctx, 'imap', message.source);
        } catch (error) {
          result.failed++;
          ctx.logger.error({ uid, error: (error as Error).message }, 'bounce mailbox: could not record a message; it stays for the next poll');
          continue;
        }
        if (settings.moveTo) await client.messageMove(String(uid), settings.moveTo, { uid: true });
        else await client.messageDelete(String(uid), { uid: true });
        result.read++;
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return result;
}

/** The worker's poll of the bounce mailbox, when BOUNCE_IMAP_URL is set. */
export async function startBounceMailbox(ctx: AppContext): Promise<RunningWorker> {
  const settings = ctx.config.bounceImap;
  if (!settings) return { name: 'bounce mailbox (off)', close: async () => undefined };
  let running: Promise<unknown> = Promise.resolve();
  let polling = false;
  const poll = () => {
    // A slow server: the next poll waits for this one.
    if (polling) return;
    polling = true;
    running = pollBounceMailbox(ctx)
      .then((done) => done.read && ctx.logger.info(done, 'bounce mailbox read'))
      .catch((error: Error) => ctx.logger.warn({ error: error.message }, 'bounce mailbox: could not read it now'))
      .finally(() => {
        polling = false;
      });
  };
  const timer = setInterval(poll, settings.intervalMs);
  poll();
  return {
    name: 'bounce mailbox',
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
