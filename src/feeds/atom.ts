import { escapeXml, type FeedView } from './items.js';

/*
 * Atom 1.0 (RFC 4287), written directly: the `feed` package types every enclosure from
 * its file extension as image/* and marks plain-text titles as HTML.
 */

const tag = (name: string, text: string, attributes = '') => `<${name}${attributes}>${escapeXml(text)}</${name}>`;
const attrs = (values: Record<string, string | number | undefined>) =>
  Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`)
    .join('');
const link = (values: Record<string, string | number | undefined>) => `<link${attrs(values)}/>`;

export function renderAtom(view: FeedView): string {
  const entries = view.items.map((item) =>
    [
      `<entry xml:lang="${escapeXml(item.lang)}">`,
      tag('id', item.guid),
      tag('title', item.title, ' type="text"'),
      link({ rel: 'alternate', type: 'text/html', href: item.url }),
      ...item.enclosures.map((e) => link({ rel: 'enclosure', type: e.type, length: e.length, href: e.url, title: e.title })),
      tag('published', item.published.toISOString()),
      tag('updated', item.updated.toISOString()),
      `<author>${tag('name', item.author)}</author>`,
      ...item.categories.map((c) => `<category${attrs({ term: c })}/>`),
      item.summary ? tag('summary', item.summary, ' type="text"') : '',
      tag('content', item.contentHtml, ' type="html"'),
      '</entry>',
    ].join(''),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom"${view.lang ? attrs({ 'xml:lang': view.lang }) : ''}>`,
    tag('id', view.urls['atom.xml']),
    tag('title', view.title, ' type="text"'),
    tag('subtitle', view.description, ' type="text"'),
    tag('updated', view.updated.toISOString()),
    link({ rel: 'self', type: 'application/atom+xml', href: view.urls['atom.xml'] }),
    ...view.hubs.map((hub) => link({ rel: 'hub', href: hub })),
    link({ rel: 'alternate', type: 'text/html', href: view.homeUrl }),
    view.author ? `<author>${tag('name', view.author)}</author>` : '',
    tag('generator', 'Newsroom'),
    ...entries,
    '</feed>',
  ].join('\n');
}
