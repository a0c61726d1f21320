import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Two things the outputs for aggregators need of a release:
 *
 * - `revision`: the version of its public content, as IPTC ninjs gives it: 1 at
 *   publication, one more for each edit of the content (text, keywords, contacts named,
 *   attachments, event) while it is public. `version` (the edit lock) cannot serve: it
 *   also moves with every status change and every draft edit. A release already edited
 *   after its publication starts at 2: it has had at least one correction.
 * - The event of an invitation: start, optional end, place and online link. Columns of
 *   the release (one event per invitation at most), indexed for a newsroom's calendar.
 */
export function eventsAndRevisions(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      // One column per statement: SQLite adds one at a time.
      await db.schema.alterTable('releases').addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('releases').addColumn('event_starts_at', time).execute();
      await db.schema.alterTable('releases').addColumn('event_ends_at', time).execute();
      await db.schema.alterTable('releases').addColumn('event_place', 'text').execute();
      await db.schema.alterTable('releases').addColumn('event_online_url', 'text').execute();
      await db.schema.createIndex('releases_newsroom_event').on('releases').columns(['newsroom_id', 'event_starts_at']).execute();
      await sql`update releases set revision = 2
        where status = 'published' and updated_at > coalesce(published_at, publish_at)`.execute(db);
    },
  };
}
