import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkReturnPath, returnPath } from '../src/bounces/return-path.js';
import { startDeliveryWorker } from '../src/delivery/worker.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
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

interface Running {
  t: TestApp;
  sink: SmtpSink;
  newsroom: NewsroomFixture;
  roomId: string;
  workers: RunningWorker[];
  close(): Promise<void>;
}

async function start(env: Record<string, string> = {}): Promise<Running> {
  const sink = await startSmtpSink();
  const t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'news@example.test', ...env });
  const workers = [await startDeliveryWorker(t.ctx), await startPublicationWorker(t.ctx)];
  const newsroom = await buildNewsroom(t);
  return {
    t,
    sink,
    newsroom,
    roomId: await newsroomId(t.ctx.db, newsroom.slug),
    workers,
    async close() {
      for (const w of workers) await w.close();
      await t.close();
      await sink.close();
    },
  };
}

/** Publishes a release to the given subscribers and waits until each has its email. */
async function publishTo(r: Running, subscribers: SubscriberFixture[]) {
  const release = await buildRelease(r.t, r.newsroom);
  await r.t.http.post(`/api/releases/${release.id}/publish`).set(r.newsroom.auth).expect(200);
  const addresses = subscribers.map((s) => s.email.toLowerCase());
  expect(await until(() => addresses.every((a) => r.sink.received.some((m) => m.to === a && m.mail.subject === 'Uusi kirjasto avataan' && m.mail.messageId?.length)))).toBe(true);
  const deliveries = await r.t.ctx.db
    .selectFrom('deliveries')
    .select(['id', 'subscriber_id', 'message_id'])
    .where('release_id', '=', release.id)
    .execute();
  return { release, deliveries };
}

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
