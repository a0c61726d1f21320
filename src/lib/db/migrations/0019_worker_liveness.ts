import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Worker liveness: each delivery worker process renews its row every few seconds (by the
 * database's clock). A row left unrenewed for a few intervals is a dead process: its
 * claimed deliveries and fan-outs are taken over at once rather than after the claim
 * timeout (see src/delivery/README.md, "Nothing lost").
 */
export function workerLiveness(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('worker_liveness')
        .addColumn('owner', 'text', (c) => c.primaryKey())
        .addColumn('started_at', time, (c) => c.notNull())
        .addColumn('renewed_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('worker_liveness_renewed').on('worker_liveness').column('renewed_at').execute();
    },
  };
}
