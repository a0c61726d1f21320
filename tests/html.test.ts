import { describe, expect, it } from '@jest/globals';
import { renderMarkdown } from '../src/lib/html.js';

describe('renderMarkdown, the one sanitiser', () => {
  it('keeps ordinary formatting, links, tables and allowed video players', () => {
    const html = renderMarkdown(
      '# Otsikko\n\n**lihava** _kursiivi_ [linkki](https://example.org)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<iframe src="https://www.youtube-nocookie.com/embed/x"></iframe>',
    );
    expect(html).toContain('<h2>Otsikko</h2>');
    expect(html).toContain('<strong>lihava</strong>');
    expect(html).toContain('<em>kursiivi</em>');
    expect(html).toContain('<a href="https://example.org" rel="noopener noreferrer nofollow">linkki</a>');
    expect(html).toContain('<td>2</td>');
    expect(html).toContain('<iframe src="https://www.youtube-nocookie.com/embed/x"></iframe>');
  });

  it.each([
    ['a script', '<script>alert(1)</script>', '<script'],
    ['an event handler', '<img src="https://example.org/a.png" onerror="alert(1)">', 'onerror'],
    ['a javascript: link in Markdown', '[x](javascript:alert(1))', 'href="javascript'],
    ['a javascript: link in HTML', '<a href="JaVaScRiPt:alert(1)">x</a>', 'javascript'],
    ['a data: link', '<a href="data:text/html,<script>alert(1)</script>">x</a>', 'data:'],
    ['a protocol-relative link', '<a href="//evil.example/">x</a>', 'evil.example'],
    ['a foreign iframe', '<iframe src="https://evil.example/"></iframe>', '<iframe'],
    ['an inline style', '<p style="position:fixed">x</p>', 'style'],
    ['a form', '<form action="https://evil.example"><input name="p"></form>', '<form'],
    ['an SVG with a handler', '<svg onload="alert(1)"><circle/></svg>', 'onload'],
  ])('removes %s', (_name, source, forbidden) => {
    expect(renderMarkdown(source).toLowerCase()).not.toContain(forbidden.toLowerCase());
  });

  it.each([
    ['quotes nested 5000 deep', '> '.repeat(5000) + 'x'],
    ['emphasis nested 2500 deep', `${'*'.repeat(2500)}a${'*'.repeat(2500)}`],
    ['200 000 characters of alternating emphasis', '_a'.repeat(100_000)],
    ['100 000 open brackets', '['.repeat(100_000)],
  ])('renders hostile Markdown (%s) without failing', (_name, source) => {
    expect(typeof renderMarkdown(source)).toBe('string');
  });
});
