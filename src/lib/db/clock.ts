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
  /** One reading: the offset, and the round trip that bounds its error. */
  async function read() {
    const before = systemNow();
    const { rows } = await sql<{ ms: number }>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`.execute(store.db);
    const after = systemNow();
    return { offset: rows[0]!.ms - (before + after) / 2, roundTrip: after - before };
  }
  async function measure() {
    // The reading with the shortest round trip of a few: a busy event loop lengthens some.
    let best = await read();
    for (let i = 0; i < 2; i++) {
      const next = await read();
      if (next.roundTrip < best.roundTrip) best = next;
    }
    offset = Math.round(best.offset);
    const off = Math.abs(offset) >= WARN_OFFSET_MS;
    if (off && !warned) {
      logger.warn({ offsetMs: offset }, "this machine's clock is off the database's; using the database's time");
    }
    warned = off;
  }
  await measure();
  const timer = setInterval(() => {
    measure().catch((error: Error) => logger.warn({ err: error.message }, 'could not read the database clock; keeping the last offset'));
  }, CLOCK_SYNC_EVERY_MS);
  timer.unref();
  return {
    now: () => new Date(systemNow() + offset),
    close: () => clearInterval(timer),
  };
}
