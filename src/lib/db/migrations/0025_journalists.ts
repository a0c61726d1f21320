import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * A newsroom's accredited journalists: people it gives advance access to embargoed
 * releases. Adding one asks nothing of them; staff suspend or remove them. One address
 * once per newsroom.
 */
export function journalists(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('journalists')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('newsroom_id', 'text', (c) => c.notNull().references('newsrooms.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('outlet', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('email_key', 'text', (c) => c.notNull())
        .addColumn('languages', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('journalists_newsroom_email').unique().on('journalists').columns(['newsroom_id', 'email_key']).execute();
    },
  };
}
