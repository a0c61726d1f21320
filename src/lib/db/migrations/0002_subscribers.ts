import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';

const sqlStatus = sql`status in ('pending', 'confirmed', 'unsubscribed')`;

/**
 * Subscribers of a newsroom. One row per (newsroom, address); the address is kept as
 * given and lower-cased in `email_key` for matching. Keywords are also kept one per row
 * (lower-cased) so that the fan-out can match them in SQL.
 */
export function subscribers(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('subscribers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('newsroom_id', 'text', (c) => c.notNull().references('newsrooms.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('email_key', 'text', (c) => c.notNull())
        .addColumn('languages', 'text', (c) => c.notNull()) // JSON array, in the subscriber's order
        .addColumn('keywords', 'text', (c) => c.notNull()) // JSON array, as given
        .addColumn('status', 'text', (c) => c.notNull().check(sqlStatus))
        // Consent: when and how the subscriber agreed, in the words they were shown.
        .addColumn('consent_at', time)
        .addColumn('consent_ip', 'text')
        .addColumn('consent_user_agent', 'text')
        .addColumn('consent_text', 'text')
        .addColumn('consent_source', 'text') // 'form', or the source named by an import
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addColumn('confirmed_at', time)
        .addColumn('unsubscribed_at', time)
        .addColumn('hard_bounces', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('subscribers_once', ['newsroom_id', 'email_key'])
        .execute();
      // The fan-out pages through a newsroom's confirmed subscribers by id (keyset).
      await db.schema.createIndex('subscribers_fanout').on('subscribers').columns(['newsroom_id', 'status', 'id']).execute();
      await db.schema.createIndex('subscribers_email').on('subscribers').column('email_key').execute();

      await db.schema
        .createTable('subscriber_keywords')
        .addColumn('subscriber_id', 'text', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
        .addColumn('keyword_key', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('subscriber_keywords_pk', ['subscriber_id', 'keyword_key'])
        .execute();
    },
  };
}
