import { z } from 'zod';
import { pathKey, perLanguage } from '../lib/schemas.js';

export const limits = {
  caption: 500,
  credit: 200,
  filename: 200,
  /** credit plus a caption in each of a newsroom's (at most 12) languages, with room to spare */
  formFields: 16,
  /** bytes; the longest caption allowed fits even in 4-byte characters */
  formFieldBytes: 4096,
} as const;

const caption = z.string().trim().max(limits.caption);
const credit = z.string().trim().max(limits.credit);

/** The form fields besides the file: `credit`, and one `caption_<lang>` per language. */
export const uploadFields = z
  .object({ credit: credit.optional() })
  .catchall(caption.describe('caption_<lang>: the caption in that language, e.g. caption_fi'));

/** The whole multipart form, for the API document (the handler streams it with busboy). */
export const uploadForm = uploadFields.extend({
  file: z.file().describe('The file. Its type is read from the bytes: images, PDF, Office documents, audio, video.'),
});

export const updateAttachmentBody = z.strictObject({
  /** A language given replaces that language only; an empty text removes it. */
  caption: perLanguage(caption).optional(),
  /** An empty text or null removes the credit. */
  credit: credit.nullable().optional(),
});

export type UpdateAttachmentInput = z.output<typeof updateAttachmentBody>;

export const attachmentParams = z.object({ id: pathKey, attachmentId: pathKey });

export const fileParams = z.object({ attachmentId: pathKey, filename: z.string() });
export const renditionParams = z.object({ attachmentId: pathKey });
