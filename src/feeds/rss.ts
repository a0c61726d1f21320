import RSS from 'rss';
import { escapeHtml } from '../lib/html.js';
import type { FeedView } from './items.js';

/*
 * RSS 2.0 with the `rss` package. Every attachment is an enclosure; RSS readers that
 * take one take the first, which the view model makes the first image (else the first file).
 *
 * Readers show the titles and descriptions of RSS (the channel's and each item's) as
 * HTML, so the plain text that goes there is escaped as HTML first: a lead of
 * `<img onerror=...>` reaches the reader as those characters, not as an element. The
 * package then writes every value as XML (CDATA, `]]>` split). Categories and the author
 * (dc:creator) are plain text to readers and go in as they are; content:encoded is the
 * stored sanitised HTML.
 */

const GENERATOR = 'Newsroom';

export function renderRss(view: FeedView): string {
  const feed = new RSS({
    title: escapeHtml(view.title),
    description: escapeHtml(view.description),
    site_url: view.homeUrl,
    feed_url: view.urls['rss.xml'],
    generator: GENERATOR,
    ...(view.lang ? { language: view.lang } : {}),
    // feed_url gives <atom:link rel="self">; WebSub's rel="hub" sits beside it.
    custom_elements: view.hubs.map((href) => ({ 'atom:link': { _attr: { rel: 'hub', href } } })),
  });
  for (const item of view.items) {
    const [first, ...more] = item.enclosures;
    feed.item({
      title: escapeHtml(item.title),
      description: escapeHtml(item.summary),
      url: item.url,
      guid: item.guid, // given apart from the URL, the package marks it isPermaLink="false"
      categories: item.categories,
      author: item.author, // dc:creator
      date: item.published,
      ...(first ? { enclosure: { url: first.url, size: first.length, type: first.type } } : {}),
      custom_elements: [
        { 'content:encoded': { _cdata: item.contentHtml } },
        ...more.map((e) => ({ enclosure: { _attr: { url: e.url, length: e.length, type: e.type } } })),
      ],
    });
  }
  // The package stamps lastBuildDate with the clock; the data's own time keeps the bytes,
  // and so the ETag, the same in every process for the same data.
  return feed
    .xml()
    .replace(/<lastBuildDate>[^<]*<\/lastBuildDate>/, `<lastBuildDate>${view.updated.toUTCString()}</lastBuildDate>`);
}
