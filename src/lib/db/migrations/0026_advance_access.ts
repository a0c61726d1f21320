import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Advance access to a scheduled release for accredited journalists:
 *
 * - `advance_access`: one per release: from when, for all the newsroom's active
 *   journalists or those chosen (`advance_links` rows made when it is given), and when
 *   staff took it all back.
 * - `advance_links`: one personal link per release and journalist. Its token is made
 *   when its email is sent, and only a SHA-256 of it is kept. The journalist's name and
 *   outlet are copied, so that the access log still says who had the link after they are
 *   removed.
 * - `advance_openings`: the access log: every opening of a link or one of its files.
 */
export function advanceAccess(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('advance_access')
        .addColumn('release_id', 'text', (c) => c.primaryKey().references('releases.id').onDelete('cascade'))
        .addColumn('opens_at', time, (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addColumn('revoked_at', time)
        .execute();
      await db.schema.createIndex('advance_access_opens').on('advance_access').column('opens_at').execute();
      await db.schema
        .createTable('advance_links')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('journalist_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('outlet', 'text', (c) => c.notNull())
        .addColumn('lang', 'text')
        .addColumn('token_hash', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('claimed_at', time)
        .addColumn('sent_at', time)
        .addColumn('failed_at', time)
        .addColumn('failure', 'text')
        .addColumn('revoked_at', time)
        .execute();
      await db.schema.createIndex('advance_links_release_journalist').unique().on('advance_links').columns(['release_id', 'journalist_id']).execute();
      await db.schema.createIndex('advance_links_token').unique().on('advance_links').column('token_hash').execute();
      await db.schema.createIndex('advance_links_journalist').on('advance_links').column('journalist_id').execute();
      await db.schema
        .createTable('advance_openings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('link_id', 'text', (c) => c.notNull().references('advance_links.id').onDelete('cascade'))
        .addColumn('release_id', 'text', (c) => c.notNull())
        .addColumn('opened_at', time, (c) => c.notNull())
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('attachment_id', 'text')
        .addColumn('filename', 'text')
        .addColumn('ip_hash', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('advance_openings_release').on('advance_openings').columns(['release_id', 'opened_at']).execute();
    },
  };
}
