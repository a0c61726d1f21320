import type { AppContext } from '../context.js';
import { journalistLinks } from '../journalists/links.js';
import type { Db } from '../lib/db/database.js';
import { subscriberLinks } from '../subscriptions/links.js';
import { deliveryLanguage, emailHash } from './fanout.js';
import { insertDeliveries, newDeliveryId } from './repository.js';

/*
 * Accredited journalists get the release at publication as subscribers do, once: those
 * of the newsroom who are active, have not unsubscribed from release emails, and are not
 * confirmed subscribers (any case) get a delivery of their own, whose subscriber_id is
 * the journalist's id (ids are UUIDs of both tables: they never meet). A confirmed
 * subscriber gets it as a subscriber, by their keywords, or not at all.
 */

/**
 * Writes the journalists' deliveries of a release, after the subscribers' (the fan-out's
 * last step): an address that already has a delivery of the release (a subscriber
 * confirmed during the fan-out) gets no second one. Returns the ids written.
 */
export async function insertJournalistDeliveries(
  db: Db,
  release: { id: string; newsroomId: string; languages: string[] },
  now: string,
): Promise<string[]> {
  const journalists = await db
    .selectFrom('journalists')
    .select(['id', 'email_key', 'languages'])
    .where('newsroom_id', '=', release.newsroomId)
    .where('status', '=', 'active')
    .where('unsubscribed_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('subscribers')
            .select('subscribers.id')
            .whereRef('subscribers.newsroom_id', '=', 'journalists.newsroom_id')
            .whereRef('subscribers.email_key', '=', 'journalists.email_key')
            .where('subscribers.status', '=', 'confirmed'),
        ),
      ),
    )
    .execute();
  if (!journalists.length) return [];
  const hashes = journalists.map((j) => emailHash(j.email_key));
  const delivered = new Set(
    (await db.selectFrom('deliveries').select('email_hash').where('release_id', '=', release.id).where('email_hash', 'in', hashes).execute()).map(
      (d) => d.email_hash,
    ),
  );
  const rows = journalists
    .map((j, i) => ({ id: newDeliveryId(), subscriberId: j.id, language: deliveryLanguage(JSON.parse(j.languages), release.languages), emailHash: hashes[i]! }))
    .filter((row) => !delivered.has(row.emailHash));
  return insertDeliveries(db, release.id, rows, now);
}

/** The unsubscribe and preferences links of a release email (or its correction notice) for its recipient. */
export const recipientLinks = (ctx: Pick<AppContext, 'config'>, recipient: { subscriberId: string; journalist: boolean }) =>
  recipient.journalist ? journalistLinks(ctx, recipient.subscriberId) : subscriberLinks(ctx, recipient.subscriberId);
