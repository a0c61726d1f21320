import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Staff web app sessions. Only a hash of the session id is kept, so that reading the
 * table does not let anyone sign in. A session stands on a newsroom token (token_id,
 * dropped with it) or on the admin token (token_id null, admin_key set); `newsroom_id` is the newsroom
 * the session works in (the admin may switch it).
 */
export function sessions(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('admin_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('token_id', 'text', (c) => c.references('api_tokens.id').onDelete('cascade'))
        // For the admin: a keyed hash of the admin token, so that changing ADMIN_TOKEN ends its sessions.
        .addColumn('admin_key', 'text')
        .addColumn('newsroom_id', 'text', (c) => c.references('newsrooms.id').onDelete('set null'))
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('last_seen_at', time, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('admin_sessions_token').on('admin_sessions').column('token_id').execute();
      await db.schema.createIndex('admin_sessions_expiry').on('admin_sessions').column('expires_at').execute();
    },
  };
}
