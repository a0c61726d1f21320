import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { storeBlob } from '../attachments/blobs.js';
import { detectContentType, logoTypes } from '../attachments/filetype.js';
import { processLogo } from '../attachments/images.js';
import type { ReceivedForm } from '../attachments/upload.js';
import type { AppContext } from '../context.js';
import { notFound, unprocessable, unsupportedMediaType } from '../lib/errors.js';
import { sendObject } from '../lib/storage/send.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomBySlug, type Newsroom, saveNewsroomLogo, wasNewsroomLogo } from './repository.js';

/*
 * A newsroom's logo: a raster image (PNG, JPEG or WebP, read from its bytes), re-encoded
 * to a bounded PNG and kept as a blob like attachments' files. Its URL names the blob's
 * hash, so it is cached for long and changes when the logo does.
 */

/** The largest logo upload taken. */
export const LOGO_MAX_BYTES = 2 * 1024 * 1024;

const YEAR_SECONDS = 365 * 24 * 60 * 60;

/** Sets the newsroom's logo from an upload (multipart, the one field `file`). */
export async function setLogo(ctx: AppContext, newsroom: Newsroom, form: ReceivedForm): Promise<Newsroom> {
  const { file } = form;
  const unknown = [...form.fields.keys()].map((path) => ({ path, message: 'is not a field of this form (file)' }));
  if (unknown.length) throw unprocessable('The form breaks the rules of this endpoint.', unknown);
  if (!file) throw unprocessable('The form has no file.', [{ path: 'file', message: 'is required' }]);
  const type = await detectContentType(file.path, file.filename);
  if (!type || !logoTypes.has(type)) {
    throw unsupportedMediaType('The logo must be a PNG, JPEG or WebP image (SVG and other formats are not taken).', { code: 'logo-format' });
  }
  const { png, width, height } = await processLogo(file.path);
  const sha256 = createHash('sha256').update(png).digest('hex');
  const logo = { sha256, width, height };
  // As for an attachment: the row names the bytes only once they are kept (see storeBlob).
  const now = await storeBlob(ctx, sha256, png, undefined, async (trx) => {
    const at = isoTime(ctx.clock.now());
    await saveNewsroomLogo(trx, newsroom.id, logo, at);
    return at;
  });
  return { ...newsroom, logo, updatedAt: now };
}

/** Removes the newsroom's logo from its pages and later emails (nothing to do when it has none). */
export async function removeLogo(ctx: AppContext, newsroom: Newsroom): Promise<Newsroom> {
  if (!newsroom.logo) return newsroom;
  const now = isoTime(ctx.clock.now());
  await saveNewsroomLogo(ctx.db, newsroom.id, null, now);
  return { ...newsroom, logo: null, updatedAt: now };
}

/**
 * Sends a logo of the newsroom, current or earlier (emails already sent name an earlier
 * one), when `file` is `<sha256>.png`; else 404. Cached for a year: a new logo has a
 * new URL.
 */
export async function serveLogo(ctx: AppContext, res: Response, slug: string, file: string): Promise<void> {
  res.set('Cache-Control', 'no-store');
  const newsroom = await findNewsroomBySlug(ctx.db, slug);
  const sha256 = /^([0-9a-f]{64})\.png$/.exec(file)?.[1];
  if (!newsroom || !sha256 || !(await wasNewsroomLogo(ctx.db, newsroom.id, sha256))) throw notFound('Logo');
  const headers = {
    'Content-Type': 'image/png',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': `public, max-age=${YEAR_SECONDS}, immutable`,
    // Shown on other sites and in mail clients.
    'Cross-Origin-Resource-Policy': 'cross-origin',
    ETag: `"${sha256}"`,
  };
  if (!(await sendObject(res, ctx.files.objects, ctx.files.blobKey(sha256), headers))) throw notFound('Logo');
}
