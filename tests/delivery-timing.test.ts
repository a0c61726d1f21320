import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { audienceInReleaseOrder, fanoutStart } from '../src/delivery/fanout.js';
import { MessageCache } from '../src/delivery/message.js';
import { processPrepareJob } from '../src/delivery/send.js';
import { startDeliveryWorker } from '../src/delivery/worker.js';
import type { Job } from 'bullmq';
import type { RunningWorker } from '../src/lib/queue.js';
import type { SendJob } from '../src/delivery/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';

/*
 * The order and timing of a fan-out: each release reaches its audience from a start point
 * of its own (nobody is always last); releases fanned out at once take turns, so that a
 * large audience does not hold up another newsroom's first email; a scheduled release's
 * emails are built before its time.
 */

let t: TestApp;
let sink: SmtpSink;
let workers: RunningWorker[];

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'news@example.test' });
  workers = [await startDeliveryWorker(t.ctx), await startPublicationWorker(t.ctx)];
});
afterAll(async () => {
  for (const w of workers) await w.close();
  await t.close();
  await sink.close();
});

describe('the order of a fan-out', () => {
  it('starts each release at its own point of the audience, and pages through everyone exactly once, resumable in either lap', async () => {
    const room = await buildNewsroom(t);
    const audience = { newsroomId: await newsroomId(t.ctx.db, room.slug), keywordKeys: [] };
    const ids = (await insertSubscribers(t.ctx.db, audience.newsroomId, Array.from({ length: 40 }, () => ({})))).map((s) => s.id).sort();
    // Two releases whose start points lie half the id space apart: some subscriber is between them but for odds of 2^-40.
    const first = randomUUID();
    const firstAt = parseInt(fanoutStart(first)[0]!, 16);
    let second = randomUUID();
    while (Math.abs(parseInt(fanoutStart(second)[0]!, 16) - firstAt) < 6) second = randomUUID();

    const orderOf = async (releaseId: string) => {
      const order: string[] = [];
      for (;;) {
        const page = await audienceInReleaseOrder(t.ctx, audience, releaseId, order.at(-1) ?? null, 7);
        order.push(...page.map((s) => s.id));
        if (page.length < 7) return order;
      }
    };
    const orders = [await orderOf(first), await orderOf(second)];
    for (const [i, order] of orders.entries()) {
      expect([...order].sort()).toEqual(ids);
      // The first one after the release's start point, then round: a rotation of the id order.
      const start = fanoutStart([first, second][i]!);
      const firstAfter = ids.findIndex((id) => id > start);
      expect(order).toEqual(firstAfter < 0 ? ids : [...ids.slice(firstAfter), ...ids.slice(0, firstAfter)]);
    }
    expect(orders[0]![0]).not.toBe(orders[1]![0]);

    // Resumed from any cursor (a fan-out taken over), the rest follows in the same order.
    for (const at of [3, 20, 35]) {
      const rest = await audienceInReleaseOrder(t.ctx, audience, first, orders[0]![at]!, 100);
      expect(rest.map((s) => s.id)).toEqual(orders[0]!.slice(at + 1));
    }
  });
});

describe('two releases of two newsrooms at the same time', () => {
  it("take turns: the small newsroom's first email does not wait behind the large one's audience", async () => {
    const [large, small] = [await buildNewsroom(t), await buildNewsroom(t)];
    const many = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, large.slug), Array.from({ length: 2000 }, () => ({})));
    const few = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, small.slug), Array.from({ length: 5 }, () => ({})));
    const releases = [await buildRelease(t, large), await buildRelease(t, small)];
    // Ahead enough that both are scheduled before either job fires on a loaded machine; the
    // small one 300 ms later, so that the large one's send jobs are queued before it (first
    // come first served would then send it last), yet most of its audience is still to go.
    const publishAt = Date.now() + 5000;
    await t.http.post(`/api/releases/${releases[0]!.id}/schedule`).set(large.auth).send({ publishAt: new Date(publishAt).toISOString() }).expect(200);
    await t.http.post(`/api/releases/${releases[1]!.id}/schedule`).set(small.auth).send({ publishAt: new Date(publishAt + 300).toISOString() }).expect(200);
    const before = sink.received.length;
    expect(await until(() => sink.received.length - before === many.length + few.length, 80_000)).toBe(true);

    const arrived = sink.received.slice(before).map((m) => m.to);
    const smallAddresses = new Set(few.map((s) => s.email.toLowerCase()));
    const firstOfSmall = arrived.findIndex((to) => smallAddresses.has(to));
    const largeAfter = arrived.slice(firstOfSmall).filter((to) => !smallAddresses.has(to)).length;
    // First come first served, it could come after all of the large one's; taking turns by
    // page, it comes with one of the large one's first pages, most of that audience still to go.
    console.log(`the small newsroom's first email arrived as number ${firstOfSmall + 1} of ${arrived.length}, ${largeAfter} of the large one's after it`);
    expect(largeAfter).toBeGreaterThan(many.length / 2);
    // Each recipient exactly once.
    expect(new Set(arrived).size).toBe(arrived.length);
  }, 90_000);
});

describe('a scheduled release', () => {
  it('has its emails built before its time, in each language, under the version it is sent as', async () => {
    const room = await buildNewsroom(t);
    const subscribers = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), [{ languages: ['fi'] }]);
    const release = await buildRelease(t, room);
    const prepare = (cache: MessageCache) => processPrepareJob(t.ctx, cache, { data: { releaseId: release.id, deliveryIds: [] } } as unknown as Job<SendJob>);
    // A draft is not prepared: nothing says it will be public.
    expect(await prepare(new MessageCache())).toBe(0);

    await t.http.post(`/api/releases/${release.id}/schedule`).set(room.auth).send({ publishAt: new Date(Date.now() + 8000).toISOString() }).expect(200);
    const versionOf = async () => (await t.ctx.db.selectFrom('releases').select('version').where('id', '=', release.id).executeTakeFirstOrThrow()).version;
    const scheduledVersion = await versionOf();
    const cache = new MessageCache();
    const languages = ['fi', 'sv'];
    expect(await prepare(cache)).toBe(languages.length);

    // Sent as the version publication gives it: the key the send jobs look up is the one prepared.
    expect(await until(() => sink.received.some((m) => m.to === subscribers[0]!.email.toLowerCase()), 30_000)).toBe(true);
    const version = await versionOf();
    expect(version).toBe(scheduledVersion + 1);
    for (const lang of languages) {
      await expect(cache.get(`${release.id}|${lang}|${version}`, () => Promise.reject(new Error('not prepared')))).resolves.toHaveProperty('pieces');
    }
  }, 40_000);
});
