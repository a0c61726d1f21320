import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * "Updated before publication" (src/advance/updates.ts): an edit of a scheduled release
 * that staff chose to tell the journalists holding live links of, with what it changed,
 * and one row per link to tell, claimed and sent once (queued -> sending -> sent |
 * failed | skipped).
 */
export function advanceUpdates(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('advance_updates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('fields', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('advance_updates_release').on('advance_updates').columns(['release_id', 'created_at']).execute();
      await db.schema
        .createTable('advance_update_emails')
        .addColumn('update_id', 'text', (c) => c.notNull().references('advance_updates.id').onDelete('cascade'))
        .addColumn('link_id', 'text', (c) => c.notNull().references('advance_links.id').onDelete('cascade'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('claimed_at', time)
        .addColumn('sent_at', time)
        .addColumn('failure', 'text')
        .addPrimaryKeyConstraint('advance_update_emails_pk', ['update_id', 'link_id'])
        .execute();
      await db.schema.createIndex('advance_update_emails_status').on('advance_update_emails').columns(['status', 'update_id']).execute();
    },
  };
}
