import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import supertest from 'supertest';
import { buildApp } from '../src/app.js';
import { databaseClock } from '../src/lib/db/clock.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease } from './support/factories.js';

/*
 * The time every process of a fleet decides embargoes by: the database's. A machine
 * whose clock runs ahead must not show a release (or record it published) early.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const AHEAD_MS = 45_000;
/** A machine whose clock is 45 s fast. */
const fastMachine = () => Date.now() + AHEAD_MS;

describe('the database clock', () => {
  it('reads the database’s time on a machine whose clock is off (PostgreSQL: several machines), the machine’s on SQLite (one)', async () => {
    const clock = await databaseClock(t.ctx.store, pino({ level: 'silent' }), fastMachine);
    try {
      const database = Date.now(); // the test's database runs on this machine, with its true clock
      const off = clock.now().getTime() - database;
      if (t.ctx.store.dialect === 'postgres') {
        expect(Math.abs(off)).toBeLessThan(1000);
      } else {
        expect(Math.abs(off - AHEAD_MS)).toBeLessThan(1000);
      }
    } finally {
      clock.close?.();
    }
  });

  it('keeps a release under embargo on a web machine whose clock is ahead (PostgreSQL)', async () => {
    if (t.ctx.store.dialect !== 'postgres') return;
    const newsroom = await buildNewsroom(t);
    const release = await buildRelease(t, newsroom);
    const publishAt = new Date(Date.now() + 20_000).toISOString();
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);

    // Two web machines 45 s fast: one deciding by its own clock, one by the database's.
    const ownClock = supertest(buildApp({ ...t.ctx, clock: { now: () => new Date(fastMachine()) } }));
    const clock = await databaseClock(t.ctx.store, pino({ level: 'silent' }), fastMachine);
    try {
      const synced = supertest(buildApp({ ...t.ctx, clock }));
      expect((await ownClock.get(`/api/releases/${release.id}`)).status).toBe(200); // the early leak
      expect((await synced.get(`/api/releases/${release.id}`)).status).toBe(404);
      expect((await synced.get(`/${newsroom.slug}/fi/rss.xml`)).text).not.toContain(release.id);
    } finally {
      clock.close?.();
    }
  });
});
