import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.js';
import { preferencesUrl, unsubscribeUrl } from '../site/urls.js';

/*
 * The secrets of subscriptions. A confirmation token is random (256 bits) and only its
 * SHA-256 is stored. Preferences and unsubscribe links need no login: they carry the
 * subscriber id signed with SIGNING_SECRET, `<id>.<HMAC-SHA256(id), base64url>`.
 */

export function newConfirmationToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashConfirmationToken(token) };
}

export const hashConfirmationToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

const signature = (secret: string, subscriberId: string) =>
  createHmac('sha256', secret).update(subscriberId, 'utf8').digest('base64url');

export const subscriberToken = (secret: string, subscriberId: string) => `${subscriberId}.${signature(secret, subscriberId)}`;

/** The subscriber id a signed token names, or undefined when the signature does not match. */
export function verifySubscriberToken(secret: string, token: string): string | undefined {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'utf8');
  const expected = Buffer.from(signature(secret, id), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
}

/** A requester's IP, keyed so that the rate-limit rows hold no address. */
export const ipHash = (secret: string, ip: string) => createHmac('sha256', secret).update(`ip:${ip}`).digest('hex');

/** An email address (its `email_key`), keyed so that the invitation window's rows hold no address. */
export const addressHash = (secret: string, emailKey: string) => createHmac('sha256', secret).update(`address:${emailKey}`).digest('hex');

/**
 * The two links every delivery email carries for its recipient (the delivery worker calls
 * this per recipient; it is a single HMAC, no database access): the preferences page, and
 * the RFC 8058 one-click unsubscribe URL for `List-Unsubscribe` and the visible link.
 */
export function subscriberLinks(ctx: Pick<AppContext, 'config'>, subscriberId: string): { preferences: string; unsubscribe: string } {
  const token = subscriberToken(ctx.config.signingSecret, subscriberId);
  return {
    preferences: preferencesUrl(ctx.config.publicUrl, token),
    unsubscribe: unsubscribeUrl(ctx.config.publicUrl, token),
  };
}
