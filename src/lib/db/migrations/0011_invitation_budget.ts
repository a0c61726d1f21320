import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Staff invitations (a CSV upload asking addresses to confirm) are held to a budget per
 * newsroom, and no address is invited twice within a window, whichever newsrooms ask.
 *
 * `invited_addresses` has one row per address (a keyed hash of it, so that nothing is
 * kept of an address its subscriber rows no longer hold): the newsroom that invited it
 * last, and when. Taking it is a conditional upsert only one request can win. Since no
 * address is invited twice within the window, its rows of the last window are exactly
 * the invitations of that window, which the newsroom's budget counts; deleting a
 * subscriber does not give the budget back.
 *
 * `invitation_budgets` holds a newsroom's own number a day, when the admin set one
 * (null: INVITATIONS_PER_DAY); its row is also what an upload locks, so that two at once
 * cannot both spend the same budget.
 */
export function invitationBudget(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('invited_addresses')
        .addColumn('address_hash', 'text', (c) => c.primaryKey())
        .addColumn('newsroom_id', 'text', (c) => c.notNull().references('newsrooms.id').onDelete('cascade'))
        .addColumn('asked_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('invited_addresses_newsroom').on('invited_addresses').columns(['newsroom_id', 'asked_at']).execute();
      await db.schema.createIndex('invited_addresses_asked').on('invited_addresses').column('asked_at').execute();
      await db.schema
        .createTable('invitation_budgets')
        .addColumn('newsroom_id', 'text', (c) => c.primaryKey().references('newsrooms.id').onDelete('cascade'))
        .addColumn('per_day', 'integer')
        .execute();
    },
  };
}
