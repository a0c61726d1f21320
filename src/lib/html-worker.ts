import type { MessagePort } from 'node:worker_threads';
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

/*
 * The one sanitiser's rendering, run in a worker thread by html.ts (which is what the
 * rest of the code calls). Everything a user writes is rendered to HTML here, once, on
 * write; web pages, feeds and emails all use the stored result.
 */

// markdown-it: linear time and bounded nesting on hostile input (marked was quadratic on
// some of it, and overflowed the stack on deep nesting). Raw HTML passes to the sanitiser.
const markdown = new MarkdownIt({ html: true, linkify: true });

/** Video hosts whose players may be embedded; every other iframe is dropped. */
const embedHosts = ['www.youtube.com', 'www.youtube-nocookie.com', 'player.vimeo.com'];

const policy: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'hr', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code',
    'strong', 'b', 'em', 'i', 'u', 's', 'del', 'sub', 'sup', 'mark', 'small', 'abbr',
    'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'a', 'img', 'figure', 'figcaption',
    'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption', 'iframe',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    abbr: ['title'],
    th: ['colspan', 'rowspan', 'scope'],
    td: ['colspan', 'rowspan'],
    ol: ['start'],
    iframe: ['src', 'width', 'height', 'title', 'allowfullscreen'],
  },
  allowedSchemes: ['https', 'http', 'mailto', 'tel'],
  allowedSchemesByTag: { img: ['https', 'http'], iframe: ['https'] },
  allowProtocolRelative: false,
  allowedIframeHostnames: embedHosts,
  // A release's own heading is its title: headings in the body start one level lower.
  transformTags: {
    h1: 'h2',
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...attribs, rel: 'noopener noreferrer nofollow' },
    }),
  },
  disallowedTagsMode: 'discard',
  // An iframe whose source was not an allowed player loses its src: drop it whole.
  exclusiveFilter: (frame) => frame.tag === 'iframe' && !frame.attribs.src,
};

/*
 * The sanitiser's parser costs time in proportion to tags times open elements (a run
 * of unclosed `<a>` is quadratic), so the HTML is measured first, in one pass, and
 * refused beyond these bounds: well above what any release needs (markdown-it itself
 * nests at most 100 deep), and low enough that the product stays small.
 */
export const MAX_TAGS = 20_000;
export const MAX_NESTING = 200;

/** Elements that never hold others, so never count as open. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

const isLetter = (code: number) => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);

/**
 * Why the HTML is refused, or undefined when it is within bounds. Counts start tags and
 * how many are open at once (closing tags close the last open one; unclosed ones count
 * as open, as the sanitiser's parser keeps them). Linear: one look at each `<`.
 */
export function exceedsBounds(html: string): string | undefined {
  let tags = 0;
  let open = 0;
  for (let at = html.indexOf('<'); at !== -1; at = html.indexOf('<', at + 1)) {
    const next = html.charCodeAt(at + 1);
    if (next === 0x2f /* / */) {
      if (isLetter(html.charCodeAt(at + 2)) && open > 0) open--;
      continue;
    }
    if (!isLetter(next)) continue;
    let end = at + 1;
    while (end < html.length && end - at < 12 && /[A-Za-z0-9]/.test(html[end]!)) end++;
    if (++tags > MAX_TAGS) return `has more than ${MAX_TAGS} HTML elements`;
    if (VOID.has(html.slice(at + 1, end).toLowerCase())) continue;
    if (++open > MAX_NESTING) return `nests HTML more than ${MAX_NESTING} elements deep (close the tags you open)`;
  }
  return undefined;
}

function countTagStarts(text: string): number {
  let count = 0;
  for (let at = text.indexOf('<'); at !== -1 && count <= MAX_TAGS; at = text.indexOf('<', at + 1)) {
    if (isLetter(text.charCodeAt(at + 1))) count++;
  }
  return count;
}

export type RenderResult = { html: string } | { refused: string };

/** Markdown (with any inline HTML in it) to HTML that is safe in every output. */
export function renderMarkdownNow(source: string): RenderResult {
  // Every tag of raw HTML starts as "<letter" in the source: too many of them are refused
  // before markdown-it spends time on them.
  if (countTagStarts(source) > MAX_TAGS) return { refused: `has more than ${MAX_TAGS} HTML elements` };
  const html = markdown.render(source);
  const refused = exceedsBounds(html);
  return refused ? { refused } : { html: sanitizeHtml(html, policy).trim() };
}

export interface RenderTask {
  source: string;
  /** Told when the render starts: html.ts times it from there. */
  started: MessagePort;
}

/** The worker's task (see html.ts). */
export default function render({ source, started }: RenderTask): RenderResult {
  started.postMessage('started');
  started.close();
  return renderMarkdownNow(source);
}
