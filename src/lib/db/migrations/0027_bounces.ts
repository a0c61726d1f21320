import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Bounces that come back after the relay accepted (see src/bounces/README.md).
 * - deliveries: when and why a delivery bounced (states `bounced`, `complained`); the
 *   Message-ID is looked up when a bounce names no signed return path.
 * - bounces: every returned message or provider event that was read, one row per
 *   delivery and outcome (so that the same bounce twice changes nothing), or alone when
 *   it named no delivery or could not be classified (then kept for staff, shortened).
 *   Erasing a subscriber erases its rows.
 */
export function bounces(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('deliveries').addColumn('bounced_at', time).execute();
      await db.schema.alterTable('deliveries').addColumn('bounce_reason', 'text').execute();
      await db.schema.createIndex('deliveries_message_id').on('deliveries').column('message_id').execute();

      await db.schema
        .createTable('bounces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('received_at', time, (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull()) // smtp | mailgun | postmark | ...
        .addColumn('outcome', 'text', (c) => c.notNull()) // permanent | transient | complaint | unmatched | unclassified
        .addColumn('delivery_id', 'text', (c) => c.references('deliveries.id').onDelete('cascade'))
        .addColumn('subscriber_id', 'text', (c) => c.references('subscribers.id').onDelete('cascade'))
        .addColumn('status', 'text') // enhanced status code (5.1.1) or feedback type
        .addColumn('reason', 'text')
        .addColumn('subject', 'text')
        .addColumn('sender', 'text')
        .addColumn('message', 'text') // unclassified only: the message as text, shortened
        .execute();
      await db.schema.createIndex('bounces_once').unique().on('bounces').columns(['delivery_id', 'outcome']).execute();
      await db.schema.createIndex('bounces_subscriber').on('bounces').columns(['subscriber_id', 'outcome', 'received_at']).execute();
      await db.schema.createIndex('bounces_received').on('bounces').columns(['received_at']).execute();
    },
  };
}
