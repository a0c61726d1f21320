import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Email delivery at publication (see src/delivery/README.md).
 * - releases.announced_at: "this release became public" claimed once, by one process.
 * - fanouts: who is writing a release's deliveries, and how far they got (a crashed
 *   fan-out is taken over and resumed from its cursor).
 * - deliveries: the language, a hash of the address (kept after an erase), and the
 *   claim and outcome of the send.
 */
export function delivery(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('releases').addColumn('announced_at', time).execute();
      // Releases public before this migration were announced without email: never mail them now.
      await db
        .updateTable('releases')
        .set({ announced_at: sql`coalesce(published_at, publish_at, updated_at)` })
        .where('status', 'in', ['published', 'withdrawn'])
        .execute();
      await db.schema.createIndex('releases_unannounced').on('releases').columns(['announced_at', 'status']).execute();

      await db.schema
        .createTable('fanouts')
        .addColumn('release_id', 'text', (c) => c.primaryKey().references('releases.id').onDelete('cascade'))
        .addColumn('claimed_at', time, (c) => c.notNull())
        .addColumn('claimed_by', 'text', (c) => c.notNull())
        .addColumn('cursor', 'text') // last subscriber id written
        .addColumn('done_at', time)
        .execute();

      for (const [name, type] of [
        ['language', 'text'],
        ['email_hash', 'text'],
        ['claimed_at', time],
        ['claimed_by', 'text'],
        ['sent_at', time],
        ['smtp_response', 'text'],
        ['message_id', 'text'],
        ['error', 'text'],
      ] as const) {
        await db.schema.alterTable('deliveries').addColumn(name, type).execute();
      }
      await db.schema
        .alterTable('deliveries')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // Recovery looks for queued rows and stale claims across releases.
      await db.schema.createIndex('deliveries_recovery').on('deliveries').columns(['status', 'id']).execute();
      await db.schema.createIndex('deliveries_release_sent').on('deliveries').columns(['release_id', 'sent_at']).execute();
      await db.schema.createIndex('deliveries_email_hash').on('deliveries').column('email_hash').execute();
    },
  };
}
