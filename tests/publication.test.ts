import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningWorker } from '../src/lib/queue.js';
import { EARLY_MS, publishJobId } from '../src/publication/queue.js';
import { reconcilePublicationJobs, startPublicationWorker } from '../src/publication/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';

let t: TestApp;
let newsroom: NewsroomFixture;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
});
afterAll(() => t.close());

const storedStatus = async (id: string) =>
  (await t.ctx.db.selectFrom('releases').select(['status', 'published_at']).where('id', '=', id).executeTakeFirstOrThrow());

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > end) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the publication worker (real Redis, BullMQ delayed jobs)', () => {
  let worker: RunningWorker;

  beforeAll(async () => {
    worker = await startPublicationWorker(t.ctx);
  });
  afterAll(() => worker.close());

  it('records a scheduled release as published when its job fires', async () => {
    const release = await buildRelease(t, newsroom);
    // Far enough ahead that a loaded CI machine still sees it scheduled before the job fires.
    const publishAt = new Date(Date.now() + 5000).toISOString();
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);
    expect((await storedStatus(release.id)).status).toBe('scheduled');

    const job = await t.ctx.publication.queue.getJob(publishJobId(release.id, publishAt));
    expect(job?.data).toEqual({ releaseId: release.id, publishAt });
    // The job fires early (a delayed job comes out of Redis late), then waits for the time in the process.
    expect(job!.opts.delay).toBeLessThanOrEqual(5000 - EARLY_MS);

    // Fired, not yet due: still scheduled (when this read is before the time on a loaded machine).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(publishAt) - 200 - Date.now())));
    const justBefore = await storedStatus(release.id);
    expect(Date.now() < Date.parse(publishAt) ? justBefore.status : 'scheduled').toBe('scheduled');

    const after = await until(() => storedStatus(release.id), (row) => row.status === 'published', 20_000);
    expect(after).toEqual({ status: 'published', published_at: publishAt });
  }, 40_000);

  it('rebuilds lost jobs from the database', async () => {
    const release = await buildRelease(t, newsroom);
    const publishAt = new Date(Date.now() + 3_600_000).toISOString();
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);
    await t.ctx.publication.queue.obliterate({ force: true });
    expect(await t.ctx.publication.queue.getJob(publishJobId(release.id, publishAt))).toBeUndefined();

    expect(await reconcilePublicationJobs(t.ctx)).toBeGreaterThanOrEqual(1);
    const job = await t.ctx.publication.queue.getJob(publishJobId(release.id, publishAt));
    expect(job?.data).toEqual({ releaseId: release.id, publishAt });
    expect(job!.opts.delay).toBeGreaterThan(3_500_000);
  });

  it('leaves a moved release alone when its old job fires', async () => {
    const release = await buildRelease(t, newsroom);
    const soon = new Date(Date.now() + 5000).toISOString();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: soon }).expect(200);
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: later }).expect(200);
    expect(await t.ctx.publication.queue.getJob(publishJobId(release.id, soon))).toBeUndefined();

    // Wait past the old time: the old job (had it survived) would have fired by then.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(soon) - Date.now()) + 1500));
    expect(await storedStatus(release.id)).toEqual({ status: 'scheduled', published_at: null });
  }, 40_000);
});
