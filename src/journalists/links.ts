import type { AppContext } from '../context.js';
import { journalistUnsubscribeUrl } from '../site/urls.js';
import { subscriberToken, verifySubscriberToken } from '../subscriptions/links.js';

/*
 * The unsubscribe link of a journalist's release email: the journalist id signed with
 * SIGNING_SECRET as subscribers' links are, under its own prefix, so that neither kind
 * of token is ever taken for the other.
 */

const PREFIX = 'journalist.';

export const journalistToken = (secret: string, journalistId: string) => subscriberToken(secret, `${PREFIX}${journalistId}`);

/** The journalist id a signed token names, or undefined. */
export function verifyJournalistToken(secret: string, token: string): string | undefined {
  const named = verifySubscriberToken(secret, token);
  return named?.startsWith(PREFIX) ? named.slice(PREFIX.length) : undefined;
}

/**
 * The two links of a journalist's release email: they have no preferences (staff keep
 * their languages), so both lead to the page that stops the release emails.
 */
export function journalistLinks(ctx: Pick<AppContext, 'config'>, journalistId: string): { preferences: string; unsubscribe: string } {
  const url = journalistUnsubscribeUrl(ctx.config.publicUrl, journalistToken(ctx.config.signingSecret, journalistId));
  return { preferences: url, unsubscribe: url };
}
