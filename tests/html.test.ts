import { afterAll, describe, expect, it } from '@jest/globals';
import { closeRenderer, MAX_WAITING_PER_NEWSROOM, RENDER_THREADS, renderMarkdown } from '../src/lib/html.js';
import { exceedsBounds, MAX_NESTING, MAX_TAGS } from '../src/lib/html-worker.js';

afterAll(() => closeRenderer());

describe('renderMarkdown, the one sanitiser', () => {
  it('keeps ordinary formatting, links, tables and allowed video players', async () => {
    const html = await renderMarkdown(
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
  ])('removes %s', async (_name, source, forbidden) => {
    expect((await renderMarkdown(source)).toLowerCase()).not.toContain(forbidden.toLowerCase());
  });

  it.each([
    ['quotes nested 5000 deep', '> '.repeat(5000) + 'x'],
    ['200 000 characters of alternating emphasis', '_a'.repeat(100_000)],
    ['100 000 open brackets', '['.repeat(100_000)],
  ])('renders hostile Markdown (%s) without failing', async (_name, source) => {
    expect(typeof (await renderMarkdown(source))).toBe('string');
  });
});

describe('bounds that keep the sanitiser linear (issue 9)', () => {
  it('refuses emphasis nested 2500 deep (1250 elements deep) with a 422 rather than render it', async () => {
    await expect(renderMarkdown(`${'*'.repeat(2500)}a${'*'.repeat(2500)}`)).rejects.toMatchObject({ status: 422 });
  });

  it('refuses a run of unclosed tags with a 422 naming the field', async () => {
    // 200 000 characters of `<a>` took the sanitiser 8.5 s before.
    await expect(renderMarkdown('<a>'.repeat(5_000), { field: 'translations.fi.body' })).rejects.toMatchObject({
      status: 422,
      errors: [{ path: 'translations.fi.body', message: expect.stringContaining(`nests HTML more than ${MAX_NESTING} elements`) }],
    });
  });

  it('refuses more elements than the bound, even when they are closed', async () => {
    await expect(renderMarkdown('<b>x</b>'.repeat(MAX_TAGS + 1))).rejects.toMatchObject({
      status: 422,
      errors: [{ path: 'body', message: `has more than ${MAX_TAGS} HTML elements` }],
    });
  });

  it('keeps long ordinary texts, and many void elements', async () => {
    const long = Array.from({ length: 2000 }, (_, i) => `Kappale ${i} [linkki](https://example.org/${i}) **lihava**.`).join('\n\n');
    expect(await renderMarkdown(long)).toContain('<p>Kappale 1999 <a href="https://example.org/1999"');
    expect(exceedsBounds('<p>' + 'a<br>'.repeat(5000) + '</p>')).toBeUndefined();
  });

  it('counts tags in one look at each "<", whatever follows it', () => {
    expect(exceedsBounds('<'.repeat(1_000_000))).toBeUndefined();
    expect(exceedsBounds('</a>'.repeat(100_000) + '<i>')).toBeUndefined();
    expect(exceedsBounds('<i>'.repeat(MAX_NESTING + 1))).toMatch(/nests/);
  });

  it('stops a render that takes longer than its time limit, with a 422', async () => {
    const long = 'Pitkä teksti **korostuksin** ja [linkein](https://example.org). '.repeat(3000);
    await expect(renderMarkdown(long, { field: 'boilerplate.fi', timeLimitMs: 1 })).rejects.toMatchObject({
      status: 422,
      errors: [{ path: 'boilerplate.fi', message: expect.stringContaining('longer than 1 ms') }],
    });
    // The pool goes on rendering after a thread was stopped.
    expect(await renderMarkdown('*ok*')).toBe('<p><em>ok</em></p>');
  });
});

describe('render threads, shared between newsrooms (issue 14)', () => {
  const text = (i: number) => Array.from({ length: 200 }, (_, p) => `Kappale ${i}.${p} **lihava** [linkki](https://example.org/${p}).`).join('\n\n');

  it("start another newsroom's text after at most a thread's worth of a busy newsroom's backlog", async () => {
    const finished: string[] = [];
    const backlog = Array.from({ length: 12 }, (_, i) => renderMarkdown(text(i), { newsroom: 'busy' }).then(() => finished.push(`busy ${i}`)));
    const other = renderMarkdown('*lyhyt*', { newsroom: 'other' }).then(() => finished.push('other'));
    await Promise.all([...backlog, other]);
    // First come, first served, it would be the 13th to finish.
    expect(finished.indexOf('other')).toBeLessThanOrEqual(2 * RENDER_THREADS);
    expect(finished.filter((name) => name.startsWith('busy'))).toEqual(Array.from({ length: 12 }, (_, i) => `busy ${i}`));
  });

  it(`answer 503 past ${MAX_WAITING_PER_NEWSROOM} texts of one newsroom waiting, and take others' meanwhile`, async () => {
    const flood = Array.from({ length: RENDER_THREADS + MAX_WAITING_PER_NEWSROOM + 1 }, (_, i) =>
      renderMarkdown(`*${i}*`, { newsroom: 'flooding' }).then(
        () => 'rendered',
        (error: { status?: number }) => error.status,
      ),
    );
    const other = renderMarkdown('*ok*', { newsroom: 'calm' });
    const outcomes = await Promise.all(flood);
    expect(outcomes.filter((outcome) => outcome === 503)).toHaveLength(1);
    expect(outcomes.at(-1)).toBe(503);
    expect(await other).toBe('<p><em>ok</em></p>');
  });
});
