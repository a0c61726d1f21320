import type { AppContext } from '../context.js';
import { findNewsroomBySlug } from '../newsrooms/repository.js';
import { currentPublicStamp } from '../releases/public.js';
import { websubHubUrl } from '../site/urls.js';
import { renderAtom } from './atom.js';
import { buildFeedView, type FeedAddress, type FeedFormat, feedUrl, type FeedView } from './items.js';
import { renderJsonFeed } from './json.js';
import { renderRss } from './rss.js';

/*
 * A feed's document in each format, as routes.ts serves it and as the WebSub hub
 * distributes it (a worker's job): apart from the routes, so that a worker loads no web
 * framework.
 */

export const writers: Record<FeedFormat, (view: FeedView) => string> = {
  'rss.xml': renderRss,
  'atom.xml': renderAtom,
  'feed.json': renderJsonFeed,
};

export const contentTypes: Record<FeedFormat, string> = {
  'rss.xml': 'application/rss+xml; charset=utf-8',
  'atom.xml': 'application/atom+xml; charset=utf-8',
  'feed.json': 'application/feed+json; charset=utf-8',
};

/** WebSub discovery in HTTP: the hub and the feed's own URL (the topic), as the feed itself names them. */
export const hubLinkHeader = (base: string, format: FeedFormat, address: FeedAddress) =>
  `<${websubHubUrl(base)}>; rel="hub", <${feedUrl(base, format, address)}>; rel="self"`;

export interface FeedDocument {
  body: string;
  contentType: string;
  /** The Link header of the feed's response (hub and self). */
  link: string;
}

/**
 * A feed as it stands now, for WebSub content distribution: the same document a reader
 * gets from the feed's URL. Undefined when the newsroom or its language is gone.
 */
/** Feeds rendered for distribution, by format, address and public stamp: one render serves every subscriber of a feed. */
const distributed = new Map<string, Promise<FeedDocument | undefined>>();
const DISTRIBUTED_KEPT = 200;

export async function currentFeed(ctx: AppContext, format: FeedFormat, address: FeedAddress): Promise<FeedDocument | undefined> {
  const base = ctx.config.publicUrl;
  const newsroom = address.newsroomSlug === undefined ? undefined : await findNewsroomBySlug(ctx.db, address.newsroomSlug);
  if (address.newsroomSlug !== undefined && !newsroom?.languages.includes(address.lang)) return undefined;
  const stamp = await currentPublicStamp(ctx, newsroom?.id);
  const key = `${base}|${format}|${newsroom?.id ?? ''}|${JSON.stringify(address)}|${stamp.version}|${newsroom?.updatedAt ?? ''}`;
  let document = distributed.get(key);
  if (!document) {
    if (distributed.size >= DISTRIBUTED_KEPT) distributed.clear();
    const scope = !newsroom || address.newsroomSlug === undefined
      ? { kind: 'all' as const }
      : address.keyword === undefined
        ? { kind: 'newsroom' as const, newsroom, lang: address.lang }
        : { kind: 'keyword' as const, newsroom, lang: address.lang, keyword: address.keyword };
    document = buildFeedView(ctx, scope, stamp).then((view) => ({
      body: writers[format](view),
      contentType: contentTypes[format],
      link: hubLinkHeader(base, format, address),
    }));
    distributed.set(key, document);
    document.catch(() => distributed.delete(key));
  }
  return document;
}
