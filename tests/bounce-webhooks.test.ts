import { createSign, generateKeyPairSync, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WEBHOOK_REQUESTS_PER_MINUTE } from '../src/bounces/policy.js';
import { ADMIN_TOKEN, startTestApp } from './support/app.js';
import { fixture, publishTo, type Running, start } from './support/bounces.js';
import { insertSubscribers, type SubscriberFixture } from './support/subscribers.js';

/*
 * The webhooks of Amazon SES (through SNS), Postmark and SendGrid, with events shaped as
 * each provider documents them, signed as each signs them: SNS with a certificate and key
 * made here (served by the fetcher the test puts in place of SNS), SendGrid with an EC
 * key pair made here. Real app, workers and SMTP.
 */

/** One release sent to `count` new subscribers; per subscriber: its delivery, return path and Message-ID. */
async function sent(r: Running, count: number) {
  const readers = await insertSubscribers(r.t.ctx.db, r.roomId, Array.from({ length: count }, () => ({ languages: ['fi'] })));
  const { deliveries } = await publishTo(r, readers);
  return readers.map((reader) => {
    const delivery = deliveries.find((d) => d.subscriber_id === reader.id)!;
    const returnPath = r.sink.received.find((m) => m.to === reader.email.toLowerCase())!.mailFrom;
    return { reader, delivery, returnPath, messageId: delivery.message_id! };
  });
}

const deliveryStatus = (r: Running, id: string) =>
  r.t.ctx.db.selectFrom('deliveries').select('status').where('id', '=', id).executeTakeFirstOrThrow().then((row) => row.status);
const subscriberStatus = (r: Running, s: SubscriberFixture) =>
  r.t.ctx.db.selectFrom('subscribers').select('status').where('id', '=', s.id).executeTakeFirstOrThrow().then((row) => row.status);
const bounceCount = (r: Running) =>
  r.t.ctx.db.selectFrom('bounces').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow().then((row) => Number(row.n));

/** The warnings the app logs from now on (its logger otherwise silent). */
function capturedWarnings(r: Running): string[] {
  const warnings: string[] = [];
  const logger = Object.create(r.t.ctx.logger) as typeof r.t.ctx.logger;
  logger.warn = ((_fields: object, message: string) => void warnings.push(message)) as typeof logger.warn;
  r.t.ctx.logger = logger;
  return warnings;
}

describe('the Amazon SES webhook (SNS)', () => {
  const topic = 'arn:aws:sns:eu-west-1:123456789012:newsroom-ses-events';
  const certUrl = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
  let r: Running;
  let key: string;
  let certificate: string;
  const fetched: string[] = [];

  beforeAll(async () => {
    // A signing certificate as SNS's is: RSA, self-made here, served in place of SNS's.
    const dir = mkdtempSync(path.join(tmpdir(), 'sns-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore' });
      key = readFileSync(`${dir}/key.pem`, 'utf8');
      certificate = readFileSync(`${dir}/cert.pem`, 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    r = await start({ BOUNCE_DOMAIN: 'bounces.example.test', SES_SNS_TOPIC_ARNS: `arn:aws:sns:us-east-1:123456789012:other, ${topic}` });
    r.t.ctx.snsFetch = async (url) => {
      fetched.push(url);
      if (url === certUrl) return certificate;
      if (url.startsWith('https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription')) return '<ConfirmSubscriptionResponse/>';
      throw new Error(`unexpected ${url}`);
    };
  });
  afterAll(() => r.close());

  /** An SNS message as SNS posts it, signed (SignatureVersion 2: SHA256withRSA; 1: SHA1withRSA) over its fields. */
  function snsMessage(fields: Record<string, string>, version: '1' | '2' = '2') {
    const message: Record<string, string> = {
      MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
      TopicArn: topic,
      Timestamp: new Date().toISOString(),
      SignatureVersion: version,
      SigningCertURL: certUrl,
      ...fields,
    };
    const order =
      message.Type === 'Notification'
        ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
        : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const signer = createSign(version === '2' ? 'RSA-SHA256' : 'RSA-SHA1');
    signer.update(order.filter((name) => message[name] !== undefined).map((name) => `${name}\n${message[name]}\n`).join(''));
    return { ...message, Signature: signer.sign(key, 'base64') };
  }

  const post = (body: object) =>
    r.t.http
      .post('/api/bounces/ses')
      .set('Content-Type', 'text/plain; charset=UTF-8')
      .set('x-amz-sns-message-type', (body as { Type: string }).Type)
      .send(JSON.stringify(body));

  /** SES's notification of a bounce, as in https://docs.aws.amazon.com/ses/latest/dg/notification-examples.html */
  const sesBounce = (s: { reader: SubscriberFixture; returnPath: string; messageId: string }, bounceType = 'Permanent') =>
    JSON.stringify({
      notificationType: 'Bounce',
      bounce: {
        feedbackId: '0100017c2a0d0b3e-7f2c4a34-9b22-4b5e-a0c8-2d1b0e0c7a4e-000000',
        bounceType,
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: s.reader.email, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        timestamp: '2026-12-02T14:00:01.000Z',
        remoteMtaIp: '192.0.2.25',
        reportingMTA: 'dsn; a8-32.smtp-out.amazonses.com',
      },
      mail: {
        timestamp: '2026-12-02T14:00:00.000Z',
        source: s.returnPath,
        sourceArn: 'arn:aws:ses:eu-west-1:123456789012:identity/example.test',
        sourceIp: '198.51.100.7',
        sendingAccountId: '123456789012',
        messageId: '0100017c2a0d0a7a-11c1b6f4-6b5b-4c5e-9b2f-7a6e5d4c3b2a-000000',
        destination: [s.reader.email],
        headersTruncated: false,
        headers: [
          { name: 'From', value: 'news@example.test' },
          { name: 'To', value: s.reader.email },
          { name: 'Message-ID', value: s.messageId },
          { name: 'Subject', value: 'Uusi kirjasto avataan' },
        ],
        commonHeaders: { from: ['news@example.test'], to: [s.reader.email], messageId: s.messageId, subject: 'Uusi kirjasto avataan' },
      },
    });

  it('confirms its subscription by reading the SubscribeURL, once the confirmation is signed', async () => {
    const subscribeUrl = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=2336412f37fb687f5d51e6e2425c464de`;
    const confirmation = snsMessage({
      Type: 'SubscriptionConfirmation',
      Token: '2336412f37fb687f5d51e6e2425c464de',
      Message: `You have chosen to subscribe to the topic ${topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: subscribeUrl,
    });
    expect((await post({ ...confirmation, Token: 'another' }).expect(401)).body).toMatchObject({ type: expect.stringContaining('unauthorized') });
    expect(fetched).not.toContain(subscribeUrl);
    expect((await post(confirmation).expect(200)).body).toEqual({ result: 'subscribed' });
    expect(fetched).toContain(subscribeUrl);
  });

  it('marks a delivery bounced on a signed Bounce notification and complained on a Complaint, once each', async () => {
    const [bouncing, complaining] = await sent(r, 2);
    const bounce = snsMessage({ Type: 'Notification', Message: sesBounce(bouncing!) });
    expect((await post(bounce).expect(200)).body).toEqual({ result: 'recorded' });
    expect((await post(bounce).expect(200)).body).toEqual({ result: 'repeated' });
    expect(await deliveryStatus(r, bouncing!.delivery.id)).toBe('bounced');
    const reason = await r.t.ctx.db.selectFrom('deliveries').select('bounce_reason').where('id', '=', bouncing!.delivery.id).executeTakeFirstOrThrow();
    expect(reason.bounce_reason).toBe('550 5.1.1 user unknown');

    const complaint = JSON.stringify({
      notificationType: 'Complaint',
      complaint: {
        feedbackId: '0100017c2a0d0b3e-complaint-000000',
        complaintSubType: null,
        complainedRecipients: [{ emailAddress: complaining!.reader.email }],
        timestamp: '2026-12-02T15:00:00.000Z',
        userAgent: 'ExampleFBL/1.0',
        complaintFeedbackType: 'abuse',
      },
      mail: { timestamp: '2026-12-02T14:00:00.000Z', source: complaining!.returnPath, messageId: '0100017c-complained', destination: [complaining!.reader.email] },
    });
    // SignatureVersion 1 (SHA1withRSA), what SNS topics sign with unless set to 2.
    expect((await post(snsMessage({ Type: 'Notification', Message: complaint }, '1')).expect(200)).body).toEqual({ result: 'recorded' });
    expect(await deliveryStatus(r, complaining!.delivery.id)).toBe('complained');
    expect(await subscriberStatus(r, complaining!.reader)).toBe('unsubscribed');
  });

  it('refuses an altered, unsigned or foreign-topic message, and a certificate from anywhere but SNS, changing nothing', async () => {
    const [s] = await sent(r, 1);
    const before = await bounceCount(r);
    const warnings = capturedWarnings(r);
    const good = snsMessage({ Type: 'Notification', Message: sesBounce(s!) });
    await post({ ...good, Message: sesBounce({ ...s!, returnPath: 'bounce@bounces.example.test' }) }).expect(401);
    const { Signature: _, ...unsigned } = good;
    await post(unsigned).expect(401);
    const elsewhere = 'https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-0.pem';
    for (const url of [elsewhere, certUrl.replace('https:', 'http:'), 'https://s3.amazonaws.com/SimpleNotificationService-0.pem']) {
      await post(snsMessage({ Type: 'Notification', Message: sesBounce(s!), SigningCertURL: url })).expect(401);
      expect(fetched).not.toContain(url);
    }
    await post(snsMessage({ Type: 'Notification', Message: sesBounce(s!), TopicArn: 'arn:aws:sns:eu-west-1:999999999999:someone-elses' })).expect(403);
    // A certificate of SNS that cannot be had now: 503, so that SNS tries again.
    const unreachable = 'https://sns.eu-north-1.amazonaws.com/SimpleNotificationService-0.pem';
    await post(snsMessage({ Type: 'Notification', Message: sesBounce(s!), SigningCertURL: unreachable })).expect(503);
    expect(fetched).toContain(unreachable);
    expect(await deliveryStatus(r, s!.delivery.id)).toBe('sent');
    expect(await bounceCount(r)).toBe(before);
    expect(warnings.filter((w) => w.startsWith('ses webhook refused'))).toHaveLength(6);
    // And the good one still counts.
    expect((await post(good).expect(200)).body).toEqual({ result: 'recorded' });
  });

  it('counts an SES transient bounce without marking the delivery', async () => {
    const [s] = await sent(r, 1);
    expect((await post(snsMessage({ Type: 'Notification', Message: sesBounce(s!, 'Transient') })).expect(200)).body).toEqual({ result: 'recorded' });
    expect(await deliveryStatus(r, s!.delivery.id)).toBe('sent');
    const row = await r.t.ctx.db.selectFrom('bounces').select(['outcome', 'source']).where('delivery_id', '=', s!.delivery.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ outcome: 'transient', source: 'ses' });
  });
});

describe('the Postmark webhook', () => {
  const user = 'postmark';
  const password = 'pm-0123456789abcdef0123';
  let r: Running;
  beforeAll(async () => {
    r = await start({ POSTMARK_WEBHOOK_USER: user, POSTMARK_WEBHOOK_PASSWORD: password });
  });
  afterAll(() => r.close());

  /** Postmark's bounce webhook body (https://postmarkapp.com/developer/webhooks/bounce-webhook), bounce content included. */
  const bounce = (s: { reader: SubscriberFixture; messageId: string }, type = 'HardBounce') => ({
    RecordType: 'Bounce',
    MessageStream: 'outbound',
    ID: 4323372036854775807,
    Type: type,
    TypeCode: type === 'HardBounce' ? 1 : 4096,
    Name: type === 'HardBounce' ? 'Hard bounce' : 'Soft bounce',
    Tag: '',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    Metadata: {},
    ServerID: 23,
    Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
    Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
    Email: s.reader.email,
    From: 'news@example.test',
    BouncedAt: '2026-12-02T14:00:01.9070259Z',
    DumpAvailable: true,
    Inactive: true,
    CanActivate: true,
    Subject: 'Uusi kirjasto avataan',
    // Postmark's own return path: the delivery is found by the returned Message-ID.
    Content: fixture('gmail-no-such-user.eml', { returnPath: 'pm_bounces@pm-bounces.example.test', recipient: s.reader.email, messageId: s.messageId }),
  });
  const post = (body: object, credentials: string | null = `${user}:${password}`) => {
    const call = r.t.http.post('/api/bounces/postmark').set('Content-Type', 'application/json');
    return (credentials ? call.set('Authorization', `Basic ${Buffer.from(credentials).toString('base64')}`) : call).send(body);
  };

  it('marks a hard bounce bounced and a spam complaint complained, with the credentials; refuses others, changing nothing', async () => {
    const [bouncing, complaining] = await sent(r, 2);
    const before = await bounceCount(r);
    const warnings = capturedWarnings(r);
    await post(bounce(bouncing!), null).expect(401);
    await post(bounce(bouncing!), `${user}:wrong-password-0123456789`).expect(401);
    expect(warnings.filter((w) => w.startsWith('postmark webhook refused'))).toHaveLength(2);
    expect(await deliveryStatus(r, bouncing!.delivery.id)).toBe('sent');
    expect(await bounceCount(r)).toBe(before);

    expect((await post(bounce(bouncing!)).expect(200)).body).toEqual({ result: 'recorded' });
    expect(await deliveryStatus(r, bouncing!.delivery.id)).toBe('bounced');

    // The spam complaint webhook (https://postmarkapp.com/developer/webhooks/spam-complaint-webhook), with the ARF report.
    const complaint = {
      ...bounce(complaining!),
      RecordType: 'SpamComplaint',
      Type: 'SpamComplaint',
      TypeCode: 512,
      Name: 'Spam complaint',
      Description: 'The subscriber explicitly marked this message as spam.',
      Details: 'Test spam complaint details',
      Content: fixture('arf-complaint.eml', { returnPath: 'pm_bounces@pm-bounces.example.test', recipient: complaining!.reader.email, messageId: complaining!.messageId }),
    };
    expect((await post(complaint).expect(200)).body).toEqual({ result: 'recorded' });
    expect(await deliveryStatus(r, complaining!.delivery.id)).toBe('complained');
    expect(await subscriberStatus(r, complaining!.reader)).toBe('unsubscribed');
  });

  it('does not take a bounce for another recipient than the returned message went to', async () => {
    const [s] = await sent(r, 1);
    expect((await post({ ...bounce(s!), Email: 'someone-else@example.net' }).expect(200)).body).toEqual({ result: 'unmatched' });
    expect(await deliveryStatus(r, s!.delivery.id)).toBe('sent');
  });
});

describe('the SendGrid Event Webhook', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const verificationKey = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  let r: Running;
  beforeAll(async () => {
    r = await start({ SENDGRID_WEBHOOK_PUBLIC_KEY: verificationKey });
  });
  afterAll(() => r.close());

  /** A batch as SendGrid posts it, signed over timestamp + body as its Event Webhook signs. */
  const post = (events: object[], key = privateKey, timestamp = String(Math.floor(Date.now() / 1000))) => {
    const body = JSON.stringify(events);
    const signature = sign('sha256', Buffer.from(timestamp + body), key).toString('base64');
    return r.t.http
      .post('/api/bounces/sendgrid')
      .set('Content-Type', 'application/json')
      .set('X-Twilio-Email-Event-Webhook-Signature', signature)
      .set('X-Twilio-Email-Event-Webhook-Timestamp', timestamp)
      .send(body);
  };
  /** Events as in https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event */
  const event = (s: { reader: SubscriberFixture; messageId: string }, fields: Record<string, unknown>) => ({
    email: s.reader.email,
    timestamp: 1764684001,
    'smtp-id': s.messageId,
    sg_event_id: 'ZGVmZXJyZWQtMC0xNTEzMjk5NTY5LWFIZWlHZmtqLTA',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
    category: ['release'],
    ...fields,
  });

  it('reads a signed batch: bounce -> bounced, spamreport -> complained, others ignored; refuses a bad or missing signature, changing nothing', async () => {
    const [bouncing, complaining] = await sent(r, 2);
    const batch = [
      event(bouncing!, { event: 'processed' }),
      event(bouncing!, { event: 'bounce', type: 'bounce', status: '5.1.1', reason: '550 5.1.1 The email account that you tried to reach does not exist.', bounce_classification: 'Invalid Address' }),
      event(complaining!, { event: 'spamreport' }),
    ];
    const before = await bounceCount(r);
    const warnings = capturedWarnings(r);
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    await post(batch, other).expect(401);
    await r.t.http.post('/api/bounces/sendgrid').set('Content-Type', 'application/json').send(JSON.stringify(batch)).expect(401);
    // A signed batch with one byte changed.
    const body = JSON.stringify(batch);
    const timestamp = String(Math.floor(Date.now() / 1000));
    await r.t.http
      .post('/api/bounces/sendgrid')
      .set('Content-Type', 'application/json')
      .set('X-Twilio-Email-Event-Webhook-Signature', sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64'))
      .set('X-Twilio-Email-Event-Webhook-Timestamp', timestamp)
      .send(body.replace('spamreport', 'spamreporT'))
      .expect(401);
    expect(await bounceCount(r)).toBe(before);
    expect(await deliveryStatus(r, bouncing!.delivery.id)).toBe('sent');
    expect(warnings.filter((w) => w.startsWith('sendgrid webhook refused'))).toHaveLength(3);

    expect((await post(batch).expect(200)).body).toEqual({ results: ['ignored', 'recorded', 'recorded'] });
    expect(await deliveryStatus(r, bouncing!.delivery.id)).toBe('bounced');
    expect(await deliveryStatus(r, complaining!.delivery.id)).toBe('complained');
    expect(await subscriberStatus(r, complaining!.reader)).toBe('unsubscribed');

    const metrics = (await r.t.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200)).text;
    expect(metrics).toMatch(/newsroom_bounces_total\{source="sendgrid",outcome="permanent"\} [1-9]/);
    expect(metrics).toMatch(/newsroom_bounces_total\{source="sendgrid",outcome="complaint"\} [1-9]/);
  });
});

describe('the webhooks together', () => {
  let r: Running;
  beforeAll(async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    r = await start({
      SES_SNS_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:123456789012:newsroom-ses-events',
      POSTMARK_WEBHOOK_USER: 'postmark',
      POSTMARK_WEBHOOK_PASSWORD: 'pm-0123456789abcdef0123',
      SENDGRID_WEBHOOK_PUBLIC_KEY: key,
    });
  });
  afterAll(() => r.close());

  it('answer 429 to a client calling them too often, counted across them, signed or not', async () => {
    const paths = ['/api/bounces/ses', '/api/bounces/postmark', '/api/bounces/sendgrid'];
    const call = async (i: number) => (await r.t.http.post(paths[i % 3]!).set('Content-Type', 'application/json').send('[]')).status;
    const statuses: number[] = [];
    for (let i = 0; i < WEBHOOK_REQUESTS_PER_MINUTE; i += 50) statuses.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => call(i + j)))));
    // SES: a list is no SNS message (400); Postmark and SendGrid: no credentials, no signature (401).
    expect(new Set(statuses)).toEqual(new Set([400, 401]));
    expect(await Promise.all(paths.map((_, i) => call(i)))).toEqual([429, 429, 429]);
  }, 90_000);
});

describe('the provider webhook settings', () => {
  it('are off (404) when not set, and checked at start', async () => {
    const t = await startTestApp();
    try {
      for (const provider of ['ses', 'postmark', 'sendgrid']) await t.http.post(`/api/bounces/${provider}`).send({}).expect(404);
    } finally {
      await t.close();
    }
    await expect(startTestApp({ SES_SNS_TOPIC_ARNS: 'my-topic' })).rejects.toThrow(/SES_SNS_TOPIC_ARNS/);
    await expect(startTestApp({ SENDGRID_WEBHOOK_PUBLIC_KEY: 'bm90IGEga2V5' })).rejects.toThrow(/SENDGRID_WEBHOOK_PUBLIC_KEY/);
    await expect(startTestApp({ POSTMARK_WEBHOOK_USER: 'postmark' })).rejects.toThrow(/POSTMARK_WEBHOOK_PASSWORD go together/);
  });
});
