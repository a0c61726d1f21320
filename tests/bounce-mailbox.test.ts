import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ImapFlow } from 'imapflow';
import { pollBounceMailbox, startBounceMailbox } from '../src/bounces/mailbox.js';
import { MAX_BOUNCE_BYTES, MAX_KEPT_CHARS } from '../src/bounces/policy.js';
import { fixture, publishTo, type Running, start } from './support/bounces.js';
import { type Dovecot, startDovecot } from './support/dovecot.js';
import { until } from './support/smtp.js';
import { insertSubscribers, type SubscriberFixture } from './support/subscribers.js';

/*
 * The bounce mailbox read over IMAP, against a real IMAP server (Dovecot, started here):
 * returned messages are put in it with IMAP APPEND, as a relay's mailbox would receive
 * them; the worker reads them, records them as the SMTP receiver does, and deletes or
 * moves them.
 */

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await startDovecot();
});
afterAll(() => dovecot?.close());

/** An IMAP session of the test's own, as the relay delivering into the mailbox. */
async function withMailbox<T>(use: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.logout();
  }
}
const countIn = (mailbox: string) =>
  withMailbox(async (client) => {
    const status = await client.status(mailbox, { messages: true });
    if (!status) throw new Error(`no status of ${mailbox}`);
    return status.messages;
  });

/** A release sent to two new subscribers; per subscriber what a bounce of it needs. */
async function sentToTwo(r: Running) {
  const readers = (await insertSubscribers(r.t.ctx.db, r.roomId, [{ languages: ['fi'] }, { languages: ['fi'] }])) as [SubscriberFixture, SubscriberFixture];
  const { deliveries } = await publishTo(r, readers);
  return readers.map((reader) => {
    const delivery = deliveries.find((d) => d.subscriber_id === reader.id)!;
    const returnPath = r.sink.received.find((m) => m.to === reader.email.toLowerCase())!.mailFrom;
    return { reader, delivery, values: { returnPath, recipient: reader.email, messageId: delivery.message_id! } };
  });
}
const statusOf = (r: Running, id: string) =>
  r.t.ctx.db.selectFrom('deliveries').select('status').where('id', '=', id).executeTakeFirstOrThrow().then((row) => row.status);

describe('the bounce mailbox, deleting what it read', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start({ BOUNCE_DOMAIN: 'bounces.example.test', BOUNCE_IMAP_URL: dovecot.url });
  });
  afterAll(() => r.close());

  it('records DSNs and complaints from the mailbox, keeps what is no report, and deletes them all', async () => {
    const [bouncing, complaining] = await sentToTwo(r);
    await withMailbox(async (client) => {
      await client.append('INBOX', fixture('exim-unrouteable.eml', bouncing!.values));
      await client.append('INBOX', fixture('arf-complaint.eml', complaining!.values));
      await client.append('INBOX', 'From: reader@example.org\r\nTo: bounce@bounces.example.test\r\nSubject: Out of office\r\n\r\nI am away until Monday.\r\n');
    });
    expect(await countIn('INBOX')).toBe(3);

    expect(await pollBounceMailbox(r.t.ctx)).toEqual({ read: 3, failed: 0 });
    expect(await statusOf(r, bouncing!.delivery.id)).toBe('bounced');
    expect(await statusOf(r, complaining!.delivery.id)).toBe('complained');
    const kept = await r.t.ctx.db.selectFrom('bounces').select(['source', 'subject', 'message']).where('outcome', '=', 'unclassified').execute();
    expect(kept).toEqual([{ source: 'imap', subject: 'Out of office', message: expect.stringContaining('I am away until Monday.') }]);
    expect(await countIn('INBOX')).toBe(0);
    // Nothing more the next time.
    expect(await pollBounceMailbox(r.t.ctx)).toEqual({ read: 0, failed: 0 });
  });

  it('reads a message past the size limit no further, keeps its start as unclassified, and deletes it', async () => {
    const [s] = await sentToTwo(r);
    const huge = fixture('postfix-user-unknown.eml', s!.values) + 'x'.repeat(MAX_BOUNCE_BYTES);
    await withMailbox((client) => client.append('INBOX', huge));
    expect(await pollBounceMailbox(r.t.ctx)).toEqual({ read: 1, failed: 0 });
    expect(await statusOf(r, s!.delivery.id)).toBe('sent');
    const kept = await r.t.ctx.db.selectFrom('bounces').select('message').where('outcome', '=', 'unclassified').where('source', '=', 'imap').where('message', 'like', '%Undelivered Mail%').executeTakeFirstOrThrow();
    expect(kept.message!.length).toBe(MAX_KEPT_CHARS);
    expect(await countIn('INBOX')).toBe(0);
  });
});

describe('the bounce mailbox worker, moving what it read', () => {
  let r: Running;
  beforeAll(async () => {
    await withMailbox((client) => client.mailboxCreate('Processed'));
    r = await start({ BOUNCE_DOMAIN: 'bounces.example.test', BOUNCE_IMAP_URL: dovecot.url, BOUNCE_IMAP_MOVE_TO: 'Processed', BOUNCE_IMAP_INTERVAL_S: '1' });
  });
  afterAll(() => r.close());

  it('polls on its own and moves each message it recorded to BOUNCE_IMAP_MOVE_TO', async () => {
    const [bouncing] = await sentToTwo(r);
    await withMailbox((client) => client.append('INBOX', fixture('gmail-no-such-user.eml', bouncing!.values)));
    const worker = await startBounceMailbox(r.t.ctx);
    try {
      expect(await until(async () => (await statusOf(r, bouncing!.delivery.id)) === 'bounced', 20_000)).toBe(true);
    } finally {
      await worker.close();
    }
    expect(await countIn('INBOX')).toBe(0);
    expect(await countIn('Processed')).toBe(1);
  });
});
