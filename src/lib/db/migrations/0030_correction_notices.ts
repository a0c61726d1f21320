import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Correction notices (see src/notices/): one row per recipient of a release (a delivery
 * in state `sent`) when staff have them told of a correction or the withdrawal. Keyed by
 * the correction and that delivery, so that nobody is written twice; claimed and sent
 * like deliveries (queued -> sending -> sent | failed | skipped).
 */
export function correctionNotices(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('correction_notices')
        .addColumn('correction_id', 'text', (c) => c.notNull().references('release_corrections.id').onDelete('cascade'))
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
        .addColumn('release_id', 'text', (c) => c.notNull())
        .addColumn('subscriber_id', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('claimed_at', time)
        .addColumn('claimed_by', 'text')
        .addColumn('sent_at', time)
        .addColumn('smtp_response', 'text')
        .addColumn('message_id', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('correction_notices_pk', ['correction_id', 'delivery_id'])
        .execute();
      await db.schema.createIndex('correction_notices_status').on('correction_notices').columns(['status', 'updated_at']).execute();
      await db.schema.createIndex('correction_notices_release').on('correction_notices').column('release_id').execute();
    },
  };
}
