import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../lib/config.js';

/*
 * The return path of a release email (VERP): `MAIL FROM` names the delivery, signed, so
 * that a bounce coming back to it names its delivery without our trusting anything the
 * bounce says about itself. `<local>+<delivery id, 32 hex>.<HMAC, 16 hex>@<domain>`:
 * lower case and hex only, because mail systems change the case of local parts, and
 * short enough (at most 64 characters) for every server.
 */

type BounceSettings = Pick<Config, 'bounces' | 'signingSecret'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const signature = (secret: string, compactId: string) =>
  createHmac('sha256', secret).update(`return-path\0${compactId}`).digest('hex').slice(0, 16);

/** The envelope sender of a delivery's email, or undefined when BOUNCE_DOMAIN is not set (MAIL_FROM is used). */
export function returnPath(config: BounceSettings, deliveryId: string): string | undefined {
  const { domain, localPart } = config.bounces;
  const id = deliveryId.toLowerCase();
  if (!domain || !UUID.test(id)) return undefined;
  const compact = id.replace(/-/g, '');
  return `${localPart}+${compact}.${signature(config.signingSecret, compact)}@${domain}`;
}

export type ReturnPathCheck =
  /** A return path we wrote: the delivery it names. */
  | { kind: 'delivery'; deliveryId: string }
  /** The bounce address without a token (what feedback loops and hand-configured relays use). */
  | { kind: 'plain' }
  /** At the bounce domain, but with a token we did not sign: forged or mangled. */
  | { kind: 'forged' }
  /** Not an address of the bounce domain at all. */
  | { kind: 'foreign' };

/** What an address that mail came back to says, checked against the signature. */
export function checkReturnPath(config: BounceSettings, address: string): ReturnPathCheck {
  const { domain, localPart } = config.bounces;
  const at = address.lastIndexOf('@');
  if (!domain || at <= 0 || address.slice(at + 1).toLowerCase() !== domain) return { kind: 'foreign' };
  const local = address.slice(0, at).toLowerCase();
  if (local === localPart.toLowerCase()) return { kind: 'plain' };
  const match = /^(.+)\+([0-9a-f]{32})\.([0-9a-f]{16})$/.exec(local);
  if (!match || match[1] !== localPart.toLowerCase()) return { kind: 'forged' };
  const [, , compact, given] = match as unknown as [string, string, string, string];
  const expected = signature(config.signingSecret, compact);
  if (!timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return { kind: 'forged' };
  const deliveryId = `${compact.slice(0, 8)}-${compact.slice(8, 12)}-${compact.slice(12, 16)}-${compact.slice(16, 20)}-${compact.slice(20)}`;
  return { kind: 'delivery', deliveryId };
}
