import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Request } from 'express';
import { canActIn } from '../auth/authorize.js';
import type { AppContext } from '../context.js';
import type { AttachmentRow } from '../lib/db/schema.js';
import {
  conflict,
  type FieldError,
  fieldErrorsOf,
  gone,
  notFound,
  unprocessable,
  unsupportedMediaType,
} from '../lib/errors.js';
import type { Principal } from '../lib/routes.js';
import { foreignLanguages } from '../lib/schemas.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import type { Release } from '../releases/repository.js';
import { isPublic } from '../releases/visibility.js';
import { storeBlob } from './blobs.js';
import { detectContentType, imageTypes } from './filetype.js';
import { processImage } from './images.js';
import {
  deleteAttachmentRow,
  findAttachment,
  findAttachmentWithRelease,
  insertAttachment,
  updateAttachmentRow,
} from './repository.js';
import { type UpdateAttachmentInput, uploadFields } from './schemas.js';
import { type ReceiveOptions, receiveForm } from './upload.js';

const withdrawnConflict = () => conflict('A withdrawn release takes no new attachments and no changes to them.', { code: 'release-withdrawn' });
const changedMeanwhile = () =>
  conflict('The release was withdrawn, deleted or changed meanwhile; load it again and retry.', { code: 'changed-meanwhile' });

async function languagesOf(ctx: AppContext, release: Release): Promise<string[]> {
  const newsroom = await findNewsroomById(ctx.db, release.newsroomId);
  if (!newsroom) throw notFound('Newsroom');
  return newsroom.languages;
}

const nonEmpty = (texts: Record<string, string>) =>
  Object.fromEntries(Object.entries(texts).filter(([, text]) => text !== ''));

/** Only well-formed codes: a key such as `caption___proto__` must not slip through as a language. */
const CAPTION_FIELD = /^caption_([a-z]{2})$/;

/** `credit` and `caption_<lang>` from the form: 422 for unknown or bad fields and for a language the newsroom lacks. */
function readUploadFields(fields: Map<string, string>, languages: readonly string[]) {
  const parsed = uploadFields.safeParse(Object.fromEntries(fields));
  if (!parsed.success) throw unprocessable('The form breaks the rules of this endpoint.', fieldErrorsOf(parsed.error));
  const { credit, ...rest } = parsed.data;
  const caption: Record<string, string> = {};
  const unknown: FieldError[] = [];
  for (const [name, text] of Object.entries(rest)) {
    const lang = CAPTION_FIELD.exec(name)?.[1];
    if (lang === undefined) unknown.push({ path: name, message: 'is not a field of this form (file, credit, caption_<lang>)', code: 'unknown_field' });
    else caption[lang] = text;
  }
  if (unknown.length) throw unprocessable('The form breaks the rules of this endpoint.', unknown);
  const foreign = foreignLanguages('caption', caption, languages).map((e) => ({ ...e, path: e.path.replace('.', '_') }));
  if (foreign.length) throw unprocessable('A caption is in a language the newsroom does not have.', foreign);
  return { caption: nonEmpty(caption), credit: credit || null };
}

/**
 * Takes a multipart upload onto a release: the file is streamed to a local temp file
 * (hashed on the way), its type read from the bytes, images measured and given a
 * web-size rendition, and the bytes streamed to the store, content-addressed. Adding a file edits the release (a published one shows as updated).
 */
export async function addAttachment(
  ctx: AppContext,
  release: Release,
  req: Request,
  beforeFile?: ReceiveOptions['beforeFile'],
): Promise<AttachmentRow> {
  if (release.status === 'withdrawn') throw withdrawnConflict();
  const languages = await languagesOf(ctx, release);
  const tempPath = await ctx.files.tempPath();
  const form = await receiveForm(req, { tempPath, maxFileBytes: ctx.config.uploadMaxBytes, beforeFile });
  try {
    const { file } = form;
    if (!file) throw unprocessable('The form has no file.', [{ path: 'file', message: 'is required', code: 'required' }]);
    const { caption, credit } = readUploadFields(form.fields, languages);
    const contentType = await detectContentType(file.path, file.filename);
    if (!contentType) {
      throw unsupportedMediaType('The file is not of a type taken here: images (JPEG, PNG, WebP, GIF), PDF, Office documents, audio or video.', { code: 'attachment-format' });
    }
    const image = imageTypes.has(contentType) ? await processImage(file.path) : undefined;
    // The row names the bytes only once they are kept (see storeBlob).
    return await storeBlob(ctx, file.sha256, file.path, image?.rendition, async (trx) => {
      const now = isoTime(ctx.clock.now());
      const row = await insertAttachment(trx, {
        id: randomUUID(),
        release_id: release.id,
        filename: file.filename,
        content_type: contentType,
        size: file.size,
        sha256: file.sha256,
        width: image?.width ?? null,
        height: image?.height ?? null,
        rendition: image ? 'image/webp' : null,
        caption: JSON.stringify(caption),
        credit,
        created_at: now,
      });
      if (!row) throw changedMeanwhile();
      return row;
    });
  } finally {
    await rm(tempPath, { force: true });
  }
}

export async function updateAttachment(
  ctx: AppContext,
  release: Release,
  attachmentId: string,
  input: UpdateAttachmentInput,
): Promise<AttachmentRow> {
  const attachment = await findAttachment(ctx.db, release.id, attachmentId);
  if (!attachment) throw notFound('Attachment');
  if (release.status === 'withdrawn') throw withdrawnConflict();
  const errors = foreignLanguages('caption', input.caption, await languagesOf(ctx, release));
  if (errors.length) throw unprocessable('A caption is in a language the newsroom does not have.', errors);
  const updated: AttachmentRow = {
    ...attachment,
    caption: JSON.stringify(nonEmpty({ ...JSON.parse(attachment.caption), ...input.caption })),
    credit: input.credit === undefined ? attachment.credit : input.credit || null,
  };
  if (!(await updateAttachmentRow(ctx.db, updated, isoTime(ctx.clock.now())))) throw changedMeanwhile();
  return updated;
}

/**
 * Takes an attachment off its release. Its bytes stay until the clean-up (blobs.ts)
 * finds them unused. Allowed on a withdrawn release too: taking a file down must stay possible.
 */
export async function removeAttachment(ctx: AppContext, release: Release, attachmentId: string): Promise<void> {
  const sha256 = await deleteAttachmentRow(ctx.db, release.id, attachmentId, isoTime(ctx.clock.now()));
  if (!sha256) throw notFound('Attachment');
}

export interface ReadableFile {
  attachment: AttachmentRow;
  /** False when it is shown to staff under embargo or after withdrawal. */
  isPublic: boolean;
}

/**
 * Embargo: a file is public once its release is. Before that, and after withdrawal,
 * only a token of the release's newsroom (or the admin's) sees it; anyone else gets
 * 404 (nothing is there yet, as far as they can tell) or 410 once withdrawn.
 */
export async function getFileForReader(
  ctx: AppContext,
  attachmentId: string,
  principal: Principal | undefined,
): Promise<ReadableFile> {
  const found = await findAttachmentWithRelease(ctx.db, attachmentId);
  if (!found) throw notFound('File');
  const { attachment, release } = found;
  if (isPublic(release, ctx.clock.now())) return { attachment, isPublic: true };
  if (canActIn(principal, release.newsroomId)) return { attachment, isPublic: false };
  if (release.status === 'withdrawn') throw gone('The release of this file has been withdrawn.');
  throw notFound('File');
}
