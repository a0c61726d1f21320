import { createHmac } from 'node:crypto';
import type { AppContext } from '../context.js';
import { preferencesUrl, unsubscribeUrl } from '../site/urls.js';

/*
 * The signed links of a subscriber (no login needed): token `<subscriberId>.<base64url
 * HMAC-SHA256 of the id with SIGNING_SECRET>`. This is the same scheme as
 * subscriptions/ provides; when both are merged, this file gives way to theirs.
 */
export function subscriberLinks(ctx: Pick<AppContext, 'config'>, subscriberId: string): { preferences: string; unsubscribe: string } {
  const mac = createHmac('sha256', ctx.config.signingSecret).update(subscriberId).digest('base64url');
  const token = `${subscriberId}.${mac}`;
  return { preferences: preferencesUrl(ctx.config.publicUrl, token), unsubscribe: unsubscribeUrl(ctx.config.publicUrl, token) };
}
