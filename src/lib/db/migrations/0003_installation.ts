import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * The database's identity: one row, made with the database. STORAGE_DIR is marked with
 * its id at first use, so that a folder is never shared by two databases unknowingly.
 * `checked_at` is what the readiness probe writes, to see that writes still succeed.
 */
export function installation(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('installation')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('checked_at', time)
        .addColumn('one_row', 'integer', (c) => c.notNull().defaultTo(1).unique().check(sql`one_row = 1`))
        .execute();
      await db.insertInto('installation').values({ id: randomUUID(), created_at: new Date().toISOString() }).execute();
    },
  };
}
