import path from 'node:path';
import { create as contentDisposition } from 'content-disposition';
import type { Response } from 'express';
import type { AppContext } from '../context.js';
import { notFound } from '../lib/errors.js';
import { sendObject } from '../lib/storage/send.js';
import type { Principal } from '../lib/routes.js';
import { getFileForReader, type ReadableFile } from './operations.js';

export type Variant = 'original' | 'web';

/** Formats a browser shows itself; everything else is offered as a download. */
const shownInline = (contentType: string) => contentType.startsWith('image/') || contentType === 'application/pdf';

/**
 * Sends an attachment's file, or its web-size rendition, to whoever may read it (see
 * getFileForReader), streamed from the store through the service, with ranges and
 * conditional requests (sendObject). Never a redirect to the bucket: a link to it could
 * not be taken back at withdrawal, and one made under embargo would outlive it.
 */
export async function serveAttachmentFile(
  ctx: AppContext,
  res: Response,
  attachmentId: string,
  principal: Principal | undefined,
  variant: Variant,
): Promise<void> {
  // Until the file turns out to be public, nothing about this URL may be cached:
  // a 404 seen under embargo must not outlive the embargo in some cache.
  res.set('Cache-Control', 'no-store');
  await sendAttachmentFile(ctx, res, await getFileForReader(ctx, attachmentId, principal), variant);
}

/** Sends the file of an attachment the caller has already found readable (a file behind an advance link, too). */
export async function sendAttachmentFile(ctx: AppContext, res: Response, { attachment, isPublic }: ReadableFile, variant: Variant): Promise<void> {
  const file =
    variant === 'original'
      ? {
          key: ctx.files.blobKey(attachment.sha256),
          contentType: attachment.content_type,
          filename: attachment.filename,
          etag: `"${attachment.sha256}"`,
        }
      : attachment.rendition
        ? {
            key: ctx.files.renditionKey(attachment.sha256),
            contentType: attachment.rendition,
            filename: `${path.parse(attachment.filename).name}.webp`,
            etag: `"${attachment.sha256}-web"`,
          }
        : undefined;
  if (!file) throw notFound('Web-size version of this file');

  const headers = {
    'Content-Type': file.contentType,
    'Content-Disposition': contentDisposition(file.filename, { type: shownInline(file.contentType) ? 'inline' : 'attachment' }),
    // Stated here, not left to the global middleware: serving uploaded bytes safely depends on it.
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': isPublic ? 'public, max-age=300' : 'private, no-store',
    // Public files are there to be embedded and linked from other sites.
    'Cross-Origin-Resource-Policy': 'cross-origin',
    // Content-addressed, so the hash is a strong validator that holds across servers.
    ETag: file.etag,
    // The attachment's own time, not the shared blob file's: that would tell when
    // another newsroom uploaded the same bytes.
    'Last-Modified': new Date(attachment.created_at).toUTCString(),
  };
  if (!(await sendObject(res, ctx.files.objects, file.key, headers))) throw notFound('File');
}
