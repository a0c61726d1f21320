import { createHash, createHmac, randomBytes } from 'node:crypto';

/*
 * Personal advance links: /advance/<token>. The token is 256 random bits, made when its
 * email is sent and held only by that email; the database keeps its SHA-256.
 */

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * A client address as the access log keeps it: an HMAC with SIGNING_SECRET, since a plain
 * hash of an IPv4 address is undone by trying all 2^32. Equal addresses still compare equal.
 */
export const addressHash = (secret: string, address: string) =>
  createHmac('sha256', secret).update(`access-log:${address}`, 'utf8').digest('hex');

export function newLinkToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256Hex(token) };
}

/** What a token in a path can be: anything else names no link (and is not hashed or looked up). */
export const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;

const seg = encodeURIComponent;

export const advanceLinkUrl = (base: string, token: string) => `${base}/advance/${seg(token)}`;

/** The page behind a link in another language of the release (its language switch). */
export const advanceLinkInLanguage = (token: string, lang: string) => `/advance/${seg(token)}?lang=${seg(lang)}`;

/** Where the page behind a link links its files: through the link, so that they answer before publication and are logged. */
export const advanceFileUrls = (token: string) => ({
  file: (attachmentId: string, filename: string) => `/advance/${seg(token)}/files/${seg(attachmentId)}/${seg(filename)}`,
  rendition: (attachmentId: string) => `/advance/${seg(token)}/files/${seg(attachmentId)}/web`,
});
