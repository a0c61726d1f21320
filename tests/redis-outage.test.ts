import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningWorker } from '../src/lib/queue.js';
import { publishJobId } from '../src/publication/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';

/*
 * Redis holds nothing that matters: with it gone, staff keep working and releases
 * stay on time; when an empty Redis comes back, the worker rebuilds the jobs.
 * This file runs its own redis-server, which it stops and starts again.
 */

const port = 20000 + Math.floor(Math.random() * 20000);
let redis: ChildProcess;
let t: TestApp;
let worker: RunningWorker;
let newsroom: NewsroomFixture;

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
}

async function stopRedis(): Promise<void> {
  const exited = new Promise((resolve) => redis.once('exit', resolve));
  redis.kill('SIGKILL');
  await exited;
}

async function until(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

beforeAll(async () => {
  await startRedis();
  t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}` });
  worker = await startPublicationWorker(t.ctx);
  newsroom = await buildNewsroom(t);
});
afterAll(async () => {
  await worker.close();
  await t.close();
  redis.kill('SIGKILL');
});

const jobExists = async (id: string, at: string) => !!(await t.ctx.publication.queue.getJob(publishJobId(id, at)).catch(() => undefined));

describe('when Redis goes away', () => {
  it('keeps answering, and rebuilds the jobs once an empty Redis is back', async () => {
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const first = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${first.id}/schedule`).set(newsroom.auth).send({ publishAt: inAnHour }).expect(200);
    expect(await jobExists(first.id, inAnHour)).toBe(true);

    await stopRedis();
    expect(await until(async () => (await t.http.get('/readyz')).status === 503)).toBe(true);
    expect((await t.http.get('/readyz')).body.checks.redis).toBe('failed');
    expect((await t.http.get('/readyz').set(t.admin)).body.checks.redis).toMatch(/^Redis is /);

    const second = await buildRelease(t, newsroom);
    const scheduled = await t.http.post(`/api/releases/${second.id}/schedule`).set(newsroom.auth).send({ publishAt: inAnHour });
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.status).toBe('scheduled');

    await startRedis(); // a new, empty Redis
    expect(await until(async () => (await jobExists(first.id, inAnHour)) && (await jobExists(second.id, inAnHour)))).toBe(true);
    await t.http.get('/readyz').expect(200);
  });
});
