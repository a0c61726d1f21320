import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * How a confirmation request came about: `form` (the subscriber asked on the public
 * form) or `invitation` (staff uploaded the address). The subscriber's consent is
 * recorded with it when they confirm, so an export tells the two apart.
 */
export function confirmationSource(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('subscription_confirmations')
        .addColumn('source', 'text', (c) => c.notNull().defaultTo('form'))
        .execute();
    },
  };
}
