import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/*
 * A newsroom token reads `nr_<id>.<secret>`. The id finds the row; only a SHA-256 of
 * the secret is stored, and it is compared in constant time. The secret has 256 bits
 * of entropy, so a fast hash is the right one (no password stretching needed).
 */
const TOKEN_PATTERN = /^nr_([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function mintToken(): { id: string; token: string; secretHash: string } {
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `nr_${id}.${secret}`, secretHash: hashSecret(secret) };
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

export function sameHash(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
