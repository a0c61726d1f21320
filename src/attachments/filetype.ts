import path from 'node:path';
import { fileTypeFromFile } from 'file-type';

export const imageTypes: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

const documentTypes: ReadonlySet<string> = new Set([
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
]);

/*
 * Old binary Office files are Compound File Binary containers, as are MSI installers
 * and more; the bytes say only "CFB", so here the name's extension decides.
 */
const legacyOffice: ReadonlyMap<string, string> = new Map([
  ['.doc', 'application/msword'],
  ['.xls', 'application/vnd.ms-excel'],
  ['.ppt', 'application/vnd.ms-powerpoint'],
]);

/** Raster formats a newsroom logo is taken in (not SVG: it can carry script). */
export const logoTypes: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp']);

/**
 * The content type of an upload as its bytes show it, when it is one we take: images,
 * PDF, Office documents, audio and video. Undefined for anything else (text, HTML,
 * SVG, archives, executables...), whatever the client claimed.
 */
export async function detectContentType(file: string, filename: string): Promise<string | undefined> {
  let mime: string | undefined;
  try {
    mime = (await fileTypeFromFile(file))?.mime;
  } catch (error) {
    // A parser choking on hostile bytes means "not a type we know"; a file system error is ours.
    if ((error as NodeJS.ErrnoException).syscall) throw error;
    return undefined;
  }
  if (mime === undefined) return undefined;
  if (mime === 'application/x-cfb') return legacyOffice.get(path.extname(filename).toLowerCase());
  if (imageTypes.has(mime) || documentTypes.has(mime) || mime.startsWith('audio/') || mime.startsWith('video/')) {
    return mime;
  }
  return undefined;
}
