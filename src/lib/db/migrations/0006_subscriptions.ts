import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Double opt-in. Each subscribe request that passes the rate limits is one row of
 * `subscription_confirmations`: what was asked for (languages, keywords) is applied only
 * when the emailed link is confirmed, so nobody can change another's subscription. The
 * token is made by the mail worker at send time and only its SHA-256 is kept; the row
 * also tells the sweep which confirmation emails were recorded but never sent.
 * `subscribers.confirmation_requested_at` is the per-address rate limit, taken by a
 * conditional update that only one request can win.
 */
export function subscriptions(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('subscribers').addColumn('confirmation_requested_at', time).execute();
      await db.schema
        .createTable('subscription_confirmations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscriber_id', 'text', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
        .addColumn('lang', 'text', (c) => c.notNull()) // language of the email and pages
        .addColumn('languages', 'text', (c) => c.notNull()) // JSON array asked for
        .addColumn('keywords', 'text', (c) => c.notNull()) // JSON array asked for
        .addColumn('ip_hash', 'text', (c) => c.notNull()) // HMAC of the requesting IP, for the per-IP limit
        .addColumn('token_hash', 'text', (c) => c.unique()) // hex SHA-256, set when the email is sent
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('claimed_at', time) // a mail worker took it
        .addColumn('sent_at', time)
        .addColumn('expires_at', time)
        .addColumn('used_at', time)
        .addColumn('failed_at', time) // the mail server refused it for good (5xx): never retried
        .addColumn('failure', 'text') // its reply
        .execute();
      await db.schema
        .createIndex('subscription_confirmations_ip')
        .on('subscription_confirmations')
        .columns(['ip_hash', 'created_at'])
        .execute();
      await db.schema
        .createIndex('subscription_confirmations_unsent')
        .on('subscription_confirmations')
        .columns(['sent_at', 'created_at'])
        .execute();
      await db.schema
        .createIndex('subscription_confirmations_subscriber')
        .on('subscription_confirmations')
        .column('subscriber_id')
        .execute();
    },
  };
}
