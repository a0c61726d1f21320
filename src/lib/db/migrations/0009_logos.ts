import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * A newsroom's logo: the blob (in `blobs`, like attachments' files) of the re-encoded
 * PNG, and its size in pixels. Every logo a newsroom has had stays in newsroom_logos:
 * emails already sent show it from its URL, so a replaced logo is still served, and
 * the blob clean-up keeps the blobs named there (attachments/repository.ts).
 */
export function logos(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      // One column per statement: SQLite adds one at a time.
      await db.schema.alterTable('newsrooms').addColumn('logo_sha256', 'text').execute();
      await db.schema.alterTable('newsrooms').addColumn('logo_width', 'integer').execute();
      await db.schema.alterTable('newsrooms').addColumn('logo_height', 'integer').execute();
      await db.schema
        .createTable('newsroom_logos')
        .addColumn('newsroom_id', 'text', (c) => c.notNull().references('newsrooms.id').onDelete('cascade'))
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('newsroom_logos_pkey', ['newsroom_id', 'sha256'])
        .execute();
      await db.schema.createIndex('newsroom_logos_sha256').on('newsroom_logos').column('sha256').execute();
    },
  };
}
