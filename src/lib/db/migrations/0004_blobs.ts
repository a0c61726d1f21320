import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * The blobs this database keeps in STORAGE_DIR. An upload records (or refreshes) its
 * blob's row in the same transaction as the attachment, and only the clean-up deletes
 * a row and its file, once no attachment names it and it has not been used for a while
 * (attachments/blobs.ts). Existing attachments' blobs are recorded here.
 */
export function blobs(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('blobs')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('created_at', time, (c) => c.notNull())
        // The last time an upload named these bytes: the clean-up leaves recent ones alone.
        .addColumn('used_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('blobs_used_at').on('blobs').column('used_at').execute();
      await sql`insert into blobs (sha256, created_at, used_at)
        select sha256, min(created_at), max(created_at) from attachments group by sha256`.execute(db);
    },
  };
}
