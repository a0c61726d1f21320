/*
 * The public URL layout, in one place: API presenters, pages, feeds and emails all
 * link through these. `base` is PUBLIC_URL without a trailing slash.
 */

const seg = encodeURIComponent;

export const newsroomPageUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}`;

export const newsroomRssUrl = (base: string, newsroom: string, lang: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/rss.xml`;

export const releasePageUrl = (base: string, newsroom: string, lang: string, releaseId: string, title: string) =>
  `${base}/${seg(newsroom)}/${seg(lang)}/${seg(releaseId)}/${slugify(title)}`;

export const attachmentUrl = (base: string, attachmentId: string, filename: string) =>
  `${base}/files/${seg(attachmentId)}/${seg(filename)}`;

export const attachmentRenditionUrl = (base: string, attachmentId: string) =>
  `${base}/files/${seg(attachmentId)}/web`;

/** A readable URL segment from a title: "Ålands väg 2026!" -> "alands-vag-2026". */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return slug || 'release';
}
