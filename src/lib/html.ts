import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

/*
 * The one sanitiser. Everything a user writes is rendered to HTML here, once, on
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

/** Markdown (with any inline HTML in it) to HTML that is safe in every output. */
export function renderMarkdown(source: string): string {
  return sanitizeHtml(markdown.render(source), policy).trim();
}

const textEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };

/**
 * The text of HTML this module produced, for outputs that take no markup (feed and
 * sitemap descriptions): tags dropped, blocks separated by a space. The sanitiser
 * writes every other character as itself, so these four entities are all there is to decode.
 */
export function htmlToText(html: string): string {
  const spaced = html.replace(/<br\s*\/?>|<\/(?:p|h[1-6]|li|dt|dd|blockquote|pre|tr|th|td|figcaption|caption)>/gi, '$& ');
  return sanitizeHtml(spaced, { allowedTags: [], allowedAttributes: {} })
    .replace(/&(amp|lt|gt|quot);/g, (_, name: string) => textEntities[name]!)
    .replace(/\s+/g, ' ')
    .trim();
}
