import type { AttachmentRow } from '../lib/db/schema.js';
import { attachmentRenditionUrl, attachmentUrl } from '../site/urls.js';

export function presentAttachment(attachment: AttachmentRow, base: string) {
  return {
    id: attachment.id,
    filename: attachment.filename,
    contentType: attachment.content_type,
    size: Number(attachment.size),
    sha256: attachment.sha256,
    url: attachmentUrl(base, attachment.id, attachment.filename),
    width: attachment.width,
    height: attachment.height,
    webUrl: attachment.rendition ? attachmentRenditionUrl(base, attachment.id) : null,
    caption: JSON.parse(attachment.caption) as Record<string, string>,
    credit: attachment.credit,
    createdAt: attachment.created_at,
  };
}
