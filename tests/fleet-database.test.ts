import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { pino } from 'pino';
import supertest from 'supertest';
import { buildApp } from '../src/app.js';
import { databaseClock } from '../src/lib/db/clock.js';
import { migrate, openStore } from '../src/lib/db/database.js';
import { POSTGRES_URL, startTestApp, type TestApp } from './support/app.js';
import { databaseUrlInSchema } from './support/fleet.js';
import { buildNewsroom, buildRelease } from './support/factories.js';

/*
 * What the machines of a fleet take from the database they share: the time they decide
 * embargoes by (a machine whose clock runs ahead must not show a release, or record it
 * published, early), and the schema they all migrate when started together.
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

describe('migrations', () => {
  it('migrate a new schema named by the URL’s search path from several processes at once, whatever other schemas hold (PostgreSQL)', async () => {
    if (t.ctx.store.dialect !== 'postgres') return;
    // This test's own schema already holds Newsroom's tables (and Kysely's): another installation's, say.
    const schema = `machines_${randomBytes(5).toString('hex')}`;
    await sql`create schema ${sql.id(schema)}`.execute(t.ctx.db);
    const machines = Array.from({ length: 3 }, () => openStore(databaseUrlInSchema(POSTGRES_URL, schema)));
    try {
      await Promise.all(machines.map(migrate));
      const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = ${schema}`.execute(t.ctx.db);
      expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['kysely_migration', 'kysely_migration_lock', 'releases', 'sign_in_failures']));
      const applied = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, 'kysely_migration')}`.execute(t.ctx.db);
      const again = await machines[0]!.db.selectFrom('releases').select('id').execute();
      expect(applied.rows[0]!.n).toBeGreaterThan(10);
      expect(again).toEqual([]);
    } finally {
      for (const store of machines) await store.destroy();
      await sql`drop schema ${sql.id(schema)} cascade`.execute(t.ctx.db);
    }
  });
});
