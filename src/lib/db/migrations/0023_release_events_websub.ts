import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * - release_events: the outbox of "a release became public, was corrected or withdrawn",
 *   written in the transaction that claims the announcement (or changes the release).
 *   WebSub content distribution and IndexNow submissions are queued from it; an event is
 *   `dispatched` once its jobs are in Redis, and queued again if Redis lost them.
 * - websub_intents: subscribe/unsubscribe requests waiting for their verification of intent.
 * - websub_subscriptions: verified subscriptions of a callback to a topic (one of our
 *   feeds), with their lease and the subscriber's hub.secret (it must be kept as given:
 *   it keys the HMAC of every distribution).
 */
export function releaseEventsWebsub(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('release_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('dispatched_at', time)
        .execute();
      await db.schema.createIndex('release_events_dispatch').on('release_events').columns(['dispatched_at', 'created_at']).execute();

      await db.schema
        .createTable('websub_intents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('callback', 'text', (c) => c.notNull())
        .addColumn('lease_seconds', 'integer', (c) => c.notNull())
        .addColumn('secret', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('websub_subscriptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('callback', 'text', (c) => c.notNull())
        // What the topic is the feed of: null newsroom = every newsroom's feed.
        .addColumn('newsroom_id', 'text', (c) => c.references('newsrooms.id').onDelete('cascade'))
        .addColumn('lang', 'text')
        .addColumn('keyword', 'text')
        .addColumn('secret', 'text')
        .addColumn('lease_seconds', 'integer', (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('websub_subscriptions_topic_callback', ['topic', 'callback'])
        .execute();
      await db.schema.createIndex('websub_subscriptions_newsroom').on('websub_subscriptions').columns(['newsroom_id', 'expires_at']).execute();
    },
  };
}
