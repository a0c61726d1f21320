import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * A newsroom's logo: the blob (in `blobs`, like attachments' files) of the re-encoded
 * PNG, and its size in pixels. A replaced logo's blob is left to the blob clean-up,
 * which keeps blobs that a logo names (attachments/repository.ts).
 */
export function logos(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // One column per statement: SQLite adds one at a time.
      await db.schema.alterTable('newsrooms').addColumn('logo_sha256', 'text').execute();
      await db.schema.alterTable('newsrooms').addColumn('logo_width', 'integer').execute();
      await db.schema.alterTable('newsrooms').addColumn('logo_height', 'integer').execute();
      await db.schema.createIndex('newsrooms_logo').on('newsrooms').column('logo_sha256').execute();
    },
  };
}
