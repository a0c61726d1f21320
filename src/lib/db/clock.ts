import { sql } from 'kysely';
import type { Logger } from '../logger.js';
import type { Clock } from '../time.js';
import type { Store } from './database.js';

/** How often a process measures its clock against the database's again. */
export const CLOCK_SYNC_EVERY_MS = 60_000;
/** An offset this large is worth a warning: the machine's time service is not working. */
const WARN_OFFSET_MS = 1000;

/**
 * The database's clock, as every process of a fleet reads it. Whether a release is
 * public is decided by comparing its publication time with "now": on several machines,
 * a machine whose clock runs ahead would show a release early (and a worker would
 * record it published early). So on PostgreSQL each process measures how far its own
 * clock is from the database's (at start, then every minute; the error is at most half
 * the shortest of three round trips) and reads the time as its own clock plus that
 * offset: one time for every web machine and worker. SQLite is on the machine itself,
 * so its clock is the machine's.
 */
export async function databaseClock(store: Store, logger: Logger, systemNow: () => number = Date.now): Promise<Clock> {
  if (store.dialect !== 'postgres') return { now: () => new Date(systemNow()) };
  let offset = 0;
  let warned = false;
  /**
   * Readings on a connection already in hand (a wait for one from the pool would count
   * as round trip): the offset, and the round trip that bounds its error. A reply read
   * late by a busy event loop makes the offset too small: the time then runs behind,
   * never ahead of the database's.
   */
  const readings = () =>
    store.db.connection().execute(async (db) => {
      const taken = [];
      for (let i = 0; i < 3; i++) {
        const before = systemNow();
        const { rows } = await sql<{ ms: number }>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`.execute(db);
        const after = systemNow();
        taken.push({ offset: rows[0]!.ms - (before + after) / 2, roundTrip: after - before });
      }
      return taken;
    });
  async function measure() {
    // The reading with the shortest round trip: the least room for error.
    const best = (await readings()).reduce((a, b) => (b.roundTrip < a.roundTrip ? b : a));
    offset = Math.round(best.offset);
    const off = Math.abs(offset) >= WARN_OFFSET_MS;
    if (off && !warned) {
      logger.warn({ offsetMs: offset }, "this machine's clock is off the database's; using the database's time");
    }
    warned = off;
    return best;
  }
  const first = await measure();
  logger.info({ offsetMs: offset, errorMs: first.roundTrip / 2 }, 'clock set to the database time');
  const timer = setInterval(() => {
    measure().catch((error: Error) => logger.warn({ err: error.message }, 'could not read the database clock; keeping the last offset'));
  }, CLOCK_SYNC_EVERY_MS);
  timer.unref();
  return {
    now: () => new Date(systemNow() + offset),
    close: () => clearInterval(timer),
  };
}
