import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { findActiveToken } from '../auth/repository.js';
import { hashSecret } from '../auth/tokens.js';
import type { AppContext } from '../context.js';
import type { Principal } from '../lib/routes.js';
import { isoTime } from '../lib/time.js';
import { deleteSession, findLiveSession, insertSession, setSessionFlash, setSessionNewsroom, takeSessionFlash, touchSession } from './repository.js';

/*
 * Staff sessions. The cookie holds a random id and its HMAC (SIGNING_SECRET); the
 * database holds only a hash of the id, the token signed in with and the newsroom in
 * use. Every request checks that the token is still live, so revoking it (or changing
 * ADMIN_TOKEN) ends its sessions at once, in every process.
 */

export const SESSION_COOKIE = 'nr_admin';
/** Signed out: a pre-session id that the sign-in form's CSRF token is tied to. */
export const PRESESSION_COOKIE = 'nr_admin_pre';
export const COOKIE_PATH = '/admin';
/** Idle time after which a session ends. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** Extending the expiry writes to the database: at most once a minute per session. */
const TOUCH_INTERVAL_MS = 60_000;

export interface Session {
  /** The id in the cookie; CSRF tokens are tied to it. */
  id: string;
  idHash: string;
  principal: Principal;
  /** The newsroom being worked in (always the token's own for a newsroom token). */
  newsroomId: string | null;
}

export const mac = (ctx: AppContext, purpose: string, value: string) =>
  createHmac('sha256', ctx.config.signingSecret).update(`${purpose}\0${value}`).digest('base64url');

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `id.signature`, so that a forged or altered cookie is refused before any lookup. */
export const signValue = (ctx: AppContext, id: string) => `${id}.${mac(ctx, 'cookie', id)}`;

export function unsignValue(ctx: AppContext, signed: string | undefined): string | undefined {
  if (!signed) return undefined;
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = signed.slice(0, dot);
  return sameText(signed.slice(dot + 1), mac(ctx, 'cookie', id)) ? id : undefined;
}

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function setCookie(ctx: AppContext, res: Response, name: string, value: string, maxAgeMs: number): void {
  res.cookie(name, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: ctx.config.publicUrl.startsWith('https:'),
    path: COOKIE_PATH,
    maxAge: maxAgeMs,
  });
}

export const clearCookie = (ctx: AppContext, res: Response, name: string) => setCookie(ctx, res, name, '', 0);

/** Keyed, so that the sessions table does not hold a plain hash of the admin token. */
const adminKey = (ctx: AppContext) => mac(ctx, 'admin', ctx.config.adminToken);

const newId = () => randomBytes(32).toString('base64url');

export async function startSession(ctx: AppContext, res: Response, principal: Principal): Promise<void> {
  const id = newId();
  const now = ctx.clock.now();
  await insertSession(ctx.db, {
    id_hash: hashSecret(id),
    token_id: principal.kind === 'newsroom' ? principal.tokenId : null,
    admin_key: principal.kind === 'admin' ? adminKey(ctx) : null,
    newsroom_id: principal.kind === 'newsroom' ? principal.newsroomId : null,
    created_at: isoTime(now),
    last_seen_at: isoTime(now),
    expires_at: isoTime(new Date(now.getTime() + SESSION_IDLE_MS)),
  });
  setCookie(ctx, res, SESSION_COOKIE, signValue(ctx, id), SESSION_IDLE_MS);
  clearCookie(ctx, res, PRESESSION_COOKIE);
}

/** The request's live session, extending it; undefined when there is none (or it ended). */
export async function loadSession(ctx: AppContext, req: Request, res: Response): Promise<Session | undefined> {
  const id = unsignValue(ctx, readCookie(req, SESSION_COOKIE));
  if (!id) return undefined;
  const idHash = hashSecret(id);
  const now = ctx.clock.now();
  const row = await findLiveSession(ctx.db, idHash, isoTime(now));
  if (!row) return undefined;

  let principal: Principal | undefined;
  if (row.token_id) {
    const token = await findActiveToken(ctx.db, row.token_id);
    if (token) principal = { kind: 'newsroom', newsroomId: token.newsroom_id, tokenId: token.id };
  } else if (row.admin_key && sameText(row.admin_key, adminKey(ctx))) {
    principal = { kind: 'admin' };
  }
  if (!principal) {
    await deleteSession(ctx.db, idHash, isoTime(now));
    return undefined;
  }
  if (now.getTime() - Date.parse(row.last_seen_at) > TOUCH_INTERVAL_MS) {
    await touchSession(ctx.db, idHash, isoTime(now), isoTime(new Date(now.getTime() + SESSION_IDLE_MS)));
    setCookie(ctx, res, SESSION_COOKIE, signValue(ctx, id), SESSION_IDLE_MS);
  }
  const newsroomId = principal.kind === 'newsroom' ? principal.newsroomId : row.newsroom_id;
  return { id, idHash, principal, newsroomId };
}

export async function endSession(ctx: AppContext, res: Response, session: Session): Promise<void> {
  await deleteSession(ctx.db, session.idHash, isoTime(ctx.clock.now()));
  clearCookie(ctx, res, SESSION_COOKIE);
}

export async function switchNewsroom(ctx: AppContext, session: Session, newsroomId: string): Promise<void> {
  await setSessionNewsroom(ctx.db, session.idHash, newsroomId);
}

/** The signed-out visitor's pre-session id, made (and set as a cookie) when missing. */
export function preSessionId(ctx: AppContext, req: Request, res: Response): string {
  const existing = unsignValue(ctx, readCookie(req, PRESESSION_COOKIE));
  if (existing) return existing;
  const id = newId();
  setCookie(ctx, res, PRESESSION_COOKIE, signValue(ctx, id), SESSION_IDLE_MS);
  return id;
}

/*
 * A form post's result for the page it redirects to (post, 303, get): kept in the
 * session's row for that one page, then cleared, so a reload neither posts again nor
 * shows a new token twice. Sealed (AES-256-GCM) with a key made from the session id,
 * which only the cookie holds: the table alone does not give away a token made.
 */

const flashKey = (ctx: AppContext, session: Session) => createHmac('sha256', ctx.config.signingSecret).update(`flash\0${session.id}`).digest();

/** Keeps `value` for the next page that takes a flash of this `kind` (replacing any other). */
export async function setFlash<T>(ctx: AppContext, session: Session, kind: string, value: T): Promise<void> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', flashKey(ctx, session), iv);
  cipher.setAAD(Buffer.from(kind));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  await setSessionFlash(ctx.db, session.idHash, `${kind}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`);
}

/** The value kept by setFlash for `kind`, once: the next call finds nothing. */
export async function takeFlash<T>(ctx: AppContext, session: Session, kind: string): Promise<T | undefined> {
  const flash = await takeSessionFlash(ctx.db, session.idHash, `${kind}.`);
  if (!flash) return undefined;
  const bytes = Buffer.from(flash.slice(kind.length + 1), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', flashKey(ctx, session), bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(kind));
  decipher.setAuthTag(bytes.subarray(12, 28));
  try {
    return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')) as T;
  } catch {
    return undefined; // sealed under another SIGNING_SECRET: nothing to show
  }
}
