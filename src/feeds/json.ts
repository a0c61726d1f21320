import type { FeedView } from './items.js';

/* JSON Feed 1.1 (https://jsonfeed.org/version/1.1) as a plain object. */

export function renderJsonFeed(view: FeedView): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: view.title,
    home_page_url: view.homeUrl,
    feed_url: view.urls['feed.json'],
    hubs: view.hubs.map((url) => ({ type: 'WebSub', url })),
    description: view.description,
    ...(view.lang ? { language: view.lang } : {}),
    ...(view.author ? { authors: [{ name: view.author }] } : {}),
    items: view.items.map((item) => ({
      id: item.guid,
      url: item.url,
      title: item.title,
      content_html: item.contentHtml,
      ...(item.summary ? { summary: item.summary } : {}),
      ...(item.image ? { image: item.image } : {}),
      date_published: item.published.toISOString(),
      date_modified: item.updated.toISOString(),
      authors: [{ name: item.author }],
      tags: item.categories,
      language: item.lang,
      attachments: item.enclosures.map((e) => ({
        url: e.url,
        mime_type: e.type,
        size_in_bytes: e.length,
        ...(e.title ? { title: e.title } : {}),
      })),
    })),
  });
}
