import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nodemailer from 'nodemailer';
import { checkReturnPath, returnPath } from '../src/bounces/return-path.js';
import { MAX_BOUNCE_BYTES, RECEIVER_CONNECTIONS_PER_MINUTE, WEBHOOK_REQUESTS_PER_MINUTE } from '../src/bounces/policy.js';
import { renderDeliveryReport } from '../src/admin/releases/deliveries.js';
import { findNewsroomById } from '../src/newsrooms/repository.js';
import { startTestApp } from './support/app.js';
import { fixture, publishTo, type Running, start } from './support/bounces.js';
import { buildNewsroom, type NewsroomFixture } from './support/factories.js';
import { insertSubscribers, newsroomId, type SubscriberFixture } from './support/subscribers.js';

/*
 * Bounces that come back after the relay accepted: the signed return path (VERP) of each
 * release email, and what a bounce to it does. Real app, workers, Redis and SMTP.
 */

const settings = (domain: string | undefined, secret = 'k'.repeat(32)) => ({
  signingSecret: secret,
  bounces: { domain, localPart: 'bounce', smtpPort: undefined, smtpHost: '127.0.0.1' },
});
const ID = '0b9d5c3e-4f1a-4c2b-9e8d-7a6b5c4d3e2f';

describe('the return path of a delivery (VERP)', () => {
  it('names the delivery, signed, in lower case, within 64 characters of local part', () => {
    const address = returnPath(settings('bounces.example.org'), ID)!;
    expect(address).toMatch(/^bounce\+0b9d5c3e4f1a4c2b9e8d7a6b5c4d3e2f\.[0-9a-f]{16}@bounces\.example\.org$/);
    expect(address.split('@')[0]!.length).toBeLessThanOrEqual(64);
    expect(checkReturnPath(settings('bounces.example.org'), address)).toEqual({ kind: 'delivery', deliveryId: ID });
    // Mail systems may change the case of the address on the way back.
    expect(checkReturnPath(settings('bounces.example.org'), address.toUpperCase())).toEqual({ kind: 'delivery', deliveryId: ID });
  });

  it('is off without BOUNCE_DOMAIN', () => {
    expect(returnPath(settings(undefined), ID)).toBeUndefined();
    expect(checkReturnPath(settings(undefined), 'bounce@example.org')).toEqual({ kind: 'foreign' });
  });

  it('tells a forged or altered token, the plain bounce address and other domains apart', () => {
    const config = settings('bounces.example.org');
    const address = returnPath(config, ID)!;
    const otherId = address.replace('0b9d5c3e', '0b9d5c3f');
    expect(checkReturnPath(config, otherId)).toEqual({ kind: 'forged' });
    expect(checkReturnPath(settings('bounces.example.org', 'x'.repeat(32)), address)).toEqual({ kind: 'forged' });
    expect(checkReturnPath(config, address.replace('bounce+', 'other+'))).toEqual({ kind: 'forged' });
    expect(checkReturnPath(config, 'bounce+nonsense@bounces.example.org')).toEqual({ kind: 'forged' });
    expect(checkReturnPath(config, 'Bounce@Bounces.Example.org')).toEqual({ kind: 'plain' });
    expect(checkReturnPath(config, address.replace('bounces.example.org', 'example.com'))).toEqual({ kind: 'foreign' });
    expect(checkReturnPath(config, 'no-at-sign')).toEqual({ kind: 'foreign' });
  });
});

describe('release emails with BOUNCE_DOMAIN set', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start({ BOUNCE_DOMAIN: 'bounces.example.test' });
  });
  afterAll(() => r.close());

  it('go out with MAIL FROM naming their delivery, the From header unchanged', async () => {
    const [reader] = await insertSubscribers(r.t.ctx.db, r.roomId, [{ languages: ['fi'] }]);
    const { deliveries } = await publishTo(r, [reader!]);
    const mail = r.sink.received.find((m) => m.to === reader!.email)!;
    expect(checkReturnPath(r.t.ctx.config, mail.mailFrom)).toEqual({ kind: 'delivery', deliveryId: deliveries[0]!.id });
    expect(mail.mail.from?.value[0]?.address).toBe('news@example.test');
  });
});

describe('release emails without BOUNCE_DOMAIN', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start();
  });
  afterAll(() => r.close());

  it('go out with MAIL_FROM as the envelope sender, as before', async () => {
    const [reader] = await insertSubscribers(r.t.ctx.db, r.roomId, [{ languages: ['fi'] }]);
    await publishTo(r, [reader!]);
    expect(r.sink.received.find((m) => m.to === reader!.email)!.mailFrom).toBe('news@example.test');
  });
});

/** A real SMTP session to the bounce receiver, as a remote mail system returning a message (MAIL FROM:<>). */
async function returnToReceiver(port: number, to: string, raw: string | Buffer) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    return await transport.sendMail({ envelope: { from: '', to }, raw });
  } finally {
    transport.close();
  }
}

describe('bounces coming back to the SMTP receiver', () => {
  let r: Running & { receiverPort: number | undefined };
  let port: number;
  const bounceDomain = 'bounces.example.test';
  beforeAll(async () => {
    r = await start({ BOUNCE_DOMAIN: bounceDomain, BOUNCE_SMTP_PORT: '0', BOUNCE_SMTP_HOST: '127.0.0.1' });
    port = r.receiverPort!;
  });
  afterAll(() => r.close());

  /** Each reader in a newsroom of their own, so that a release goes to them alone. */
  const newsroomOf = new Map<string, NewsroomFixture>();
  /** A subscriber, a release sent to them, and what a bounce of that email needs. */
  async function sentTo(subscriber?: SubscriberFixture) {
    let reader = subscriber;
    if (!reader) {
      const newsroom = await buildNewsroom(r.t);
      reader = (await insertSubscribers(r.t.ctx.db, await newsroomId(r.t.ctx.db, newsroom.slug), [{ languages: ['fi'] }]))[0]!;
      newsroomOf.set(reader.id, newsroom);
    }
    const newsroom = newsroomOf.get(reader.id)!;
    const { release, deliveries } = await publishTo(r, [reader], newsroom);
    const delivery = deliveries.find((d) => d.subscriber_id === reader.id)!;
    const mail = r.sink.received.filter((m) => m.to === reader.email.toLowerCase()).at(-1)!;
    return { reader, release, delivery, values: { returnPath: mail.mailFrom, recipient: reader.email, messageId: delivery.message_id! } };
  }
  const deliveryRow = (id: string) => r.t.ctx.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const subscriberRow = (id: string) => r.t.ctx.db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const report = async (releaseId: string, reader: SubscriberFixture) =>
    (await r.t.http.get(`/api/releases/${releaseId}/deliveries`).set(newsroomOf.get(reader.id)!.auth).expect(200)).body;

  it('marks a delivery bounced on a Postfix DSN to its return path, once however often it comes, and shows it in the report', async () => {
    const { reader, release, delivery, values } = await sentTo();
    expect(values.returnPath).toMatch(/^bounce\+[0-9a-f]{32}\.[0-9a-f]{16}@bounces\.example\.test$/);
    const answer = await returnToReceiver(port, values.returnPath, fixture('postfix-user-unknown.eml', values));
    expect(answer.response).toMatch(/^250 /);
    expect(await deliveryRow(delivery.id)).toMatchObject({ status: 'bounced', bounce_reason: expect.stringContaining('5.1.1') });
    expect(await subscriberRow(reader.id)).toMatchObject({ status: 'confirmed', hard_bounces: 1 });
    // The same DSN again (a second MX, a retried session): nothing more.
    await returnToReceiver(port, values.returnPath, fixture('postfix-user-unknown.eml', values));
    expect(await subscriberRow(reader.id)).toMatchObject({ hard_bounces: 1 });

    const body = await report(release.id, reader);
    expect(body).toMatchObject({ total: 1, sent: 0, failed: 1, bounced: 1, complained: 0, bounces: { permanent: 1, transient: 0, complaint: 0 } });
    expect(body.languages.fi).toMatchObject({ failed: 1, bounced: 1 });
    expect(body.failures.items).toEqual([expect.objectContaining({ id: delivery.id, bounced: true, smtpResponse: expect.stringContaining('User unknown') })]);
  });

  it('reads Exim, Gmail and Exchange Online DSNs, and suppresses the address on its second release, as a refusal at sending does', async () => {
    for (const name of ['exim-unrouteable.eml', 'gmail-no-such-user.eml', 'microsoft-recipient-not-found.eml']) {
      const { reader, delivery, values } = await sentTo();
      await returnToReceiver(port, values.returnPath, fixture(name, values));
      expect({ name, ...(await deliveryRow(delivery.id)) }).toMatchObject({ name, status: 'bounced' });
      const second = await sentTo(reader);
      await returnToReceiver(port, second.values.returnPath, fixture(name, second.values));
      expect({ name, ...(await subscriberRow(reader.id)) }).toMatchObject({ name, status: 'unsubscribed', hard_bounces: 2 });
    }
  });

  it('finds the delivery by the returned Message-ID when the bounce comes to the plain address, but only for the same recipient', async () => {
    const { delivery, values } = await sentTo();
    const plain = `bounce@${bounceDomain}`;
    // The relay rewrote the return path (as SES does without a custom MAIL FROM), and the recipient is another.
    await returnToReceiver(port, plain, fixture('microsoft-recipient-not-found.eml', { ...values, returnPath: plain, recipient: 'someone-else@example.net' }));
    expect(await deliveryRow(delivery.id)).toMatchObject({ status: 'sent' });
    const unmatched = await r.t.ctx.db.selectFrom('bounces').selectAll().where('outcome', '=', 'unmatched').execute();
    expect(unmatched).toHaveLength(1);
    await returnToReceiver(port, plain, fixture('microsoft-recipient-not-found.eml', { ...values, returnPath: plain }));
    expect(await deliveryRow(delivery.id)).toMatchObject({ status: 'bounced', bounce_reason: expect.stringContaining('RecipientNotFound') });
  });

  it('marks an ARF spam complaint complained and unsubscribes the address at once', async () => {
    const { reader, release, delivery, values } = await sentTo();
    // Feedback loops report to the address registered with them; the report names the return path.
    await returnToReceiver(port, `bounce@${bounceDomain}`, fixture('arf-complaint.eml', values));
    expect(await deliveryRow(delivery.id)).toMatchObject({ status: 'complained' });
    expect(await subscriberRow(reader.id)).toMatchObject({ status: 'unsubscribed', hard_bounces: 0 });
    expect(await report(release.id, reader)).toMatchObject({ total: 1, sent: 1, complained: 1, bounces: { complaint: 1 } });
  });

  it('suppresses on temporary bounces only after a run of them over days', async () => {
    const day = 86_400_000;
    let reader: SubscriberFixture | undefined;
    for (const [i, expected] of (['confirmed', 'confirmed', 'unsubscribed'] as const).entries()) {
      if (i) r.t.clock.advance(2 * day);
      const sent = await sentTo(reader);
      const { delivery, values } = sent;
      reader = sent.reader;
      await returnToReceiver(port, values.returnPath, fixture('postfix-expired.eml', values));
      // The message may yet have arrived elsewhere: the delivery stays sent; the bounce is counted.
      expect(await deliveryRow(delivery.id)).toMatchObject({ status: 'sent' });
      expect({ i, status: (await subscriberRow(reader!.id)).status }).toEqual({ i, status: expected });
    }
  });

  it('refuses a forged return path, other addresses and oversized messages in the session, changing nothing', async () => {
    const { delivery, values } = await sentTo();
    const forged = values.returnPath.replace(/\.[0-9a-f]{16}@/, '.0000000000000000@');
    const before = await r.t.ctx.db.selectFrom('bounces').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await expect(returnToReceiver(port, forged, fixture('postfix-user-unknown.eml', { ...values, returnPath: forged }))).rejects.toMatchObject({ responseCode: 550 });
    await expect(returnToReceiver(port, `postmaster@${bounceDomain}`, 'Subject: hi\r\n\r\nhello\r\n')).rejects.toMatchObject({ responseCode: 550 });
    await expect(returnToReceiver(port, 'someone@example.org', 'Subject: relay me\r\n\r\nhello\r\n')).rejects.toMatchObject({ responseCode: 550 });
    const huge = fixture('postfix-user-unknown.eml', values) + 'x'.repeat(MAX_BOUNCE_BYTES);
    await expect(returnToReceiver(port, values.returnPath, huge)).rejects.toMatchObject({ responseCode: 552 });
    // A plain-address report whose headers carry a forged token: read, and ignored.
    await returnToReceiver(port, `bounce@${bounceDomain}`, fixture('arf-complaint.eml', { ...values, returnPath: forged }));
    expect(await deliveryRow(delivery.id)).toMatchObject({ status: 'sent' });
    const after = await r.t.ctx.db.selectFrom('bounces').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('keeps a message it cannot classify for staff, as text, and never renders what a bounce says as HTML', async () => {
    const { reader, release, delivery, values } = await sentTo();
    await returnToReceiver(port, values.returnPath, 'From: someone@example.org\r\nSubject: Re: Uusi kirjasto\r\n\r\nThanks, <b>great</b> news!\r\n');
    const kept = await r.t.ctx.db.selectFrom('bounces').selectAll().where('outcome', '=', 'unclassified').execute();
    expect(kept).toEqual([expect.objectContaining({ subject: 'Re: Uusi kirjasto', message: expect.stringContaining('Thanks, <b>great</b> news!') })]);
    expect(await deliveryRow(delivery.id)).toMatchObject({ status: 'sent' });

    const hostile = fixture('postfix-user-unknown.eml', values).replace('User unknown in virtual mailbox table\r\n\r\n', 'User unknown <script>alert(1)</script>\r\n\r\n');
    await returnToReceiver(port, values.returnPath, hostile);
    const newsroom = (await findNewsroomById(r.t.ctx.db, await newsroomId(r.t.ctx.db, newsroomOf.get(reader.id)!.slug)))!;
    const html = await renderDeliveryReport(r.t.ctx, release.id, newsroom, 'en');
    expect(html).toContain('User unknown &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('refuses a client that opens connections too fast (421), after answering the first ones', async () => {
    /** The server's first line to a new connection. */
    const greeting = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('data', (line) => {
          socket.end('QUIT\r\n');
          resolve(line.toString('utf8'));
        });
        socket.once('error', reject);
      });
    // Earlier tests of this block used some of the minute's connections already.
    const lines: string[] = [];
    for (let i = 0; i < RECEIVER_CONNECTIONS_PER_MINUTE + 1; i++) lines.push(await greeting());
    expect(lines[0]).toMatch(/^(220|421) /);
    expect(lines.at(-1)).toMatch(/^421 /);
    expect(lines.filter((l) => l.startsWith('220 ')).length).toBeLessThanOrEqual(RECEIVER_CONNECTIONS_PER_MINUTE);
  });
});

describe('the bounce receiver setting', () => {
  it('needs BOUNCE_DOMAIN', async () => {
    await expect(startTestApp({ BOUNCE_SMTP_PORT: '2525' })).rejects.toThrow(/BOUNCE_SMTP_PORT: the bounce receiver needs BOUNCE_DOMAIN/);
  });
});

describe('the Mailgun webhook', () => {
  const key = 'mailgun-signing-key-0123456789';
  let r: Running;
  beforeAll(async () => {
    r = await start({ BOUNCE_DOMAIN: 'bounces.example.test', MAILGUN_WEBHOOK_SIGNING_KEY: key });
  });
  afterAll(() => r.close());

  /** A Mailgun event as Mailgun posts it, signed with `signingKey`. */
  const event = (data: Record<string, unknown>, signingKey = key, timestamp = Math.floor(Date.now() / 1000)) => {
    const token = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0';
    const signature = createHmac('sha256', signingKey).update(`${timestamp}${token}`).digest('hex');
    return { signature: { timestamp: String(timestamp), token, signature }, 'event-data': { timestamp, id: 'Ase7i2zsRYeDXztHGENqRA', ...data } };
  };
  const failed = (sender: string, recipient: string, messageId: string) => ({
    event: 'failed',
    severity: 'permanent',
    recipient,
    reason: 'bounce',
    'delivery-status': { code: 550, message: '5.1.1 The email account that you tried to reach does not exist', description: '' },
    envelope: { sender, targets: recipient, transport: 'smtp' },
    message: { headers: { to: recipient, 'message-id': messageId.replace(/^<|>$/g, ''), from: 'news@example.test', subject: 'Uusi kirjasto avataan' } },
  });

  it('marks a failed event bounced and a complained one complained, when signed; refuses a bad or stale signature', async () => {
    const [bouncing, complaining] = await insertSubscribers(r.t.ctx.db, r.roomId, [{ languages: ['fi'] }, { languages: ['fi'] }]);
    const { deliveries } = await publishTo(r, [bouncing!, complaining!]);
    const of = (s: SubscriberFixture) => deliveries.find((d) => d.subscriber_id === s.id)!;
    const senderOf = (s: SubscriberFixture) => r.sink.received.find((m) => m.to === s.email.toLowerCase())!.mailFrom;
    const body = event(failed(senderOf(bouncing!), bouncing!.email, of(bouncing!).message_id!));

    const forged = event(failed(senderOf(bouncing!), bouncing!.email, of(bouncing!).message_id!), 'another-key-0123456789abc');
    await r.t.http.post('/api/bounces/mailgun').send(forged).expect(401);
    const stale = event(failed(senderOf(bouncing!), bouncing!.email, of(bouncing!).message_id!), key, Math.floor(Date.now() / 1000) - 3600);
    await r.t.http.post('/api/bounces/mailgun').send(stale).expect(401);
    await r.t.http.post('/api/bounces/mailgun').send({ nonsense: true }).expect(422);
    const status = (id: string) => r.t.ctx.db.selectFrom('deliveries').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    expect(await status(of(bouncing!).id)).toEqual({ status: 'sent' });

    expect((await r.t.http.post('/api/bounces/mailgun').send(body).expect(200)).body).toEqual({ result: 'recorded' });
    expect((await r.t.http.post('/api/bounces/mailgun').send(body).expect(200)).body).toEqual({ result: 'repeated' });
    expect(await status(of(bouncing!).id)).toEqual({ status: 'bounced' });

    const complaint = event({
      event: 'complained',
      recipient: complaining!.email,
      envelope: { sender: senderOf(complaining!) },
      message: { headers: { 'message-id': of(complaining!).message_id!.replace(/^<|>$/g, '') } },
    });
    expect((await r.t.http.post('/api/bounces/mailgun').send(complaint).expect(200)).body).toEqual({ result: 'recorded' });
    expect(await status(of(complaining!).id)).toEqual({ status: 'complained' });
    const subscriber = await r.t.ctx.db.selectFrom('subscribers').select('status').where('id', '=', complaining!.id).executeTakeFirstOrThrow();
    expect(subscriber).toEqual({ status: 'unsubscribed' });
  });

  it('answers 429 to a client calling too often, signed or not', async () => {
    const forged = event({ event: 'failed' }, 'another-key-0123456789abc');
    const call = async () => (await r.t.http.post('/api/bounces/mailgun').send(forged)).status;
    const statuses: number[] = [];
    for (let i = 0; i < WEBHOOK_REQUESTS_PER_MINUTE; i += 50) statuses.push(...(await Promise.all(Array.from({ length: 50 }, call))));
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(await call()).toBe(429);
  }, 90_000);

  it('is not there without MAILGUN_WEBHOOK_SIGNING_KEY', async () => {
    const t = await startTestApp();
    try {
      await t.http.post('/api/bounces/mailgun').send(event({ event: 'failed' })).expect(404);
    } finally {
      await t.close();
    }
  });
});
