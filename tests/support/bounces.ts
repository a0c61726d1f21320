import { readFileSync } from 'node:fs';
import { expect } from '@jest/globals';
import { startBounceReceiver } from '../../src/bounces/receiver.js';
import { startDeliveryWorker } from '../../src/delivery/worker.js';
import type { RunningWorker } from '../../src/lib/queue.js';
import { startPublicationWorker } from '../../src/publication/worker.js';
import { startTestApp, type TestApp } from './app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './factories.js';
import { type SmtpSink, startSmtpSink, until } from './smtp.js';
import { newsroomId, type SubscriberFixture } from './subscribers.js';

/* The app with its delivery workers and an SMTP sink, for the tests of bounces (tests/bounces*.test.ts). */

export interface Running {
  t: TestApp;
  sink: SmtpSink;
  newsroom: NewsroomFixture;
  roomId: string;
  workers: RunningWorker[];
  close(): Promise<void>;
}

export async function start(env: Record<string, string> = {}): Promise<Running & { receiverPort: number | undefined }> {
  const sink = await startSmtpSink();
  const t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'news@example.test', ...env });
  const receiver = await startBounceReceiver(t.ctx);
  const workers = [await startDeliveryWorker(t.ctx), await startPublicationWorker(t.ctx), receiver];
  const newsroom = await buildNewsroom(t);
  return {
    receiverPort: receiver.port,
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

/** Publishes a release of the newsroom (by default the running one) and waits until each subscriber's email is sent. */
export async function publishTo(r: Running, subscribers: SubscriberFixture[], newsroom = r.newsroom) {
  const release = await buildRelease(r.t, newsroom);
  await r.t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
  const sent = () =>
    r.t.ctx.db
      .selectFrom('deliveries')
      .select(['id', 'subscriber_id', 'message_id'])
      .where('release_id', '=', release.id)
      .where('status', '=', 'sent')
      .execute();
  expect(await until(async () => (await sent()).length >= subscribers.length)).toBe(true);
  return { release, deliveries: await sent() };
}

/** A fixture under tests/fixtures/bounces with a real delivery's values filled in. */
export const fixture = (name: string, values: { returnPath: string; recipient: string; messageId: string }) =>
  readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url), 'utf8')
    .replaceAll('{{RETURN_PATH}}', values.returnPath)
    .replaceAll('{{RECIPIENT}}', values.recipient)
    .replaceAll('{{MESSAGE_ID}}', values.messageId.replace(/^<|>$/g, ''))
    .replace(/\r?\n/g, '\r\n');
