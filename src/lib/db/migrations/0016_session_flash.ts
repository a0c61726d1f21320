import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * What a staff page's form post produced, kept for the one page the post redirects to
 * (a token made, an import's result): shown once, then cleared. Sealed with a key made
 * from the session id, which only the cookie holds (see admin/session.ts).
 */
export function sessionFlash(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('admin_sessions').addColumn('flash', 'text').execute();
    },
  };
}
