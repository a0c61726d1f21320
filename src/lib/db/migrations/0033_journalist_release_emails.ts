import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Accredited journalists get the release email at publication (src/delivery/journalists.ts).
 * `unsubscribed_at`: when the journalist used the email's unsubscribe link; they stay
 * accredited (advance access goes on) but get no more release emails.
 */
export function journalistReleaseEmails(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('journalists').addColumn('unsubscribed_at', time).execute();
    },
  };
}
