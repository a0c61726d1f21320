import type { AppContext } from '../context.js';
import { type FeedAddress, type FeedFormat, feedFormats, feedUrl } from '../feeds/items.js';
import { findNewsroomBySlug } from '../newsrooms/repository.js';
import { LANGUAGE_SEGMENT } from '../site/output.js';

/*
 * A WebSub topic is one of this installation's feeds, named by its URL: every
 * newsroom's, a newsroom's in one language, or one of its keywords', in RSS, Atom or
 * JSON Feed. The subscription keeps what the feed is of, so that a release's change
 * finds the topics it changes without parsing URLs.
 */

export interface Topic {
  /** The feed's own URL (what the feed calls itself with rel="self"). */
  url: string;
  format: FeedFormat;
  address: FeedAddress;
  newsroomId: string | null;
}

const isFormat = (segment: string): segment is FeedFormat => (feedFormats as readonly string[]).includes(segment);

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The feed `value` names, or undefined when it is not a feed of this installation. */
export async function parseTopic(ctx: AppContext, value: string): Promise<Topic | undefined> {
  const base = `${ctx.config.publicUrl}/`;
  if (!value.startsWith(base) || /[?#]/.test(value)) return undefined;
  const segments = value.slice(base.length).split('/').map(decoded);
  if (segments.some((s) => s === undefined || s === '')) return undefined;
  const format = segments.at(-1)!;
  if (!isFormat(format)) return undefined;
  const [slug, lang, keywordMark, keyword] = segments as string[];
  let address: FeedAddress;
  let newsroomId: string | null = null;
  if (segments.length === 1) {
    address = {};
  } else if ((segments.length === 3 || (segments.length === 5 && keywordMark === 'keyword')) && LANGUAGE_SEGMENT.test(lang!)) {
    const newsroom = await findNewsroomBySlug(ctx.db, slug!);
    if (!newsroom?.languages.includes(lang!)) return undefined;
    newsroomId = newsroom.id;
    address = segments.length === 3 ? { newsroomSlug: newsroom.slug, lang: lang! } : { newsroomSlug: newsroom.slug, lang: lang!, keyword: keyword!.toLowerCase() };
  } else {
    return undefined;
  }
  const url = feedUrl(ctx.config.publicUrl, format, address);
  return url === value ? { url, format, address, newsroomId } : undefined;
}
