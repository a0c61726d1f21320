import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Failed staff sign-ins, one row each, by a keyed hash of the client's address (never
 * the address): the sign-in throttle counts them here, so that a lockout holds on every
 * web machine. Rows older than the throttle's window are deleted as new failures come.
 */
export function signInFailures(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('sign_in_failures')
        .addColumn('address_hash', 'text', (c) => c.notNull())
        .addColumn('failed_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sign_in_failures_address').on('sign_in_failures').columns(['address_hash', 'failed_at']).execute();
      await db.schema.createIndex('sign_in_failures_time').on('sign_in_failures').column('failed_at').execute();
    },
  };
}
