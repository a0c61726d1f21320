import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';

export function initial(dialect: Dialect) {
  // ISO strings in SQLite (they sort as text), real timestamps in PostgreSQL.
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';

  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('newsrooms')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('languages', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull())
        .addColumn('website', 'text')
        .addColumn('social', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('newsroom_translations')
        .addColumn('newsroom_id', 'text', (c) => c.notNull().references('newsrooms.id').onDelete('cascade'))
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('boilerplate', 'text', (c) => c.notNull())
        .addColumn('boilerplate_html', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('newsroom_translations_pk', ['newsroom_id', 'lang'])
        .execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('newsroom_id', 'text', (c) => c.notNull().references('newsrooms.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('last_used_at', time)
        .addColumn('revoked_at', time)
        .execute();
      await db.schema.createIndex('api_tokens_newsroom').on('api_tokens').column('newsroom_id').execute();

      await db.schema
        .createTable('contacts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('newsroom_id', 'text', (c) => c.notNull().references('newsrooms.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('phone', 'text')
        .addColumn('email', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('contacts_newsroom').on('contacts').column('newsroom_id').execute();

      await db.schema
        .createTable('releases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('newsroom_id', 'text', (c) => c.notNull().references('newsrooms.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('publish_at', time)
        .addColumn('published_at', time)
        .addColumn('withdrawn_at', time)
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addCheckConstraint(
          'releases_status',
          sql`status in ('draft', 'scheduled', 'published', 'withdrawn')`,
        )
        .addCheckConstraint('releases_scheduled_has_time', sql`status <> 'scheduled' or publish_at is not null`)
        .execute();
      await db.schema
        .createIndex('releases_newsroom_status')
        .on('releases')
        .columns(['newsroom_id', 'status', 'publish_at'])
        .execute();
      await db.schema.createIndex('releases_due').on('releases').columns(['status', 'publish_at']).execute();

      await db.schema
        .createTable('release_translations')
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('lead', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('body_html', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('release_translations_pk', ['release_id', 'lang'])
        .execute();

      await db.schema
        .createTable('release_keywords')
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('keyword', 'text', (c) => c.notNull())
        .addColumn('keyword_key', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('release_keywords_pk', ['release_id', 'lang', 'keyword_key'])
        .execute();
      await db.schema.createIndex('release_keywords_key').on('release_keywords').column('keyword_key').execute();

      await db.schema
        .createTable('release_contacts')
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('release_contacts_pk', ['release_id', 'contact_id'])
        .execute();
      await db.schema.createIndex('release_contacts_contact').on('release_contacts').column('contact_id').execute();

      await db.schema
        .createTable('attachments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('width', 'integer')
        .addColumn('height', 'integer')
        .addColumn('rendition', 'text')
        .addColumn('caption', 'text', (c) => c.notNull())
        .addColumn('credit', 'text')
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('attachments_release').on('attachments').column('release_id').execute();
      await db.schema.createIndex('attachments_sha256').on('attachments').column('sha256').execute();

      await db.schema
        .createTable('deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('subscriber_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addUniqueConstraint('deliveries_once', ['release_id', 'subscriber_id'])
        .execute();
      await db.schema.createIndex('deliveries_release_status').on('deliveries').columns(['release_id', 'status']).execute();
    },
  };
}
