import { mkdirSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { instantToZoned } from '../src/admin/zoned.js';
import { handleReturnedMessage } from '../src/bounces/process.js';
import { startDeliveryWorker } from '../src/delivery/worker.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/app.js';
import { buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { accessibilityViolations } from './support/axe.js';
import { fixture } from './support/bounces.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';
import { freePort } from './support/ports.js';

/*
 * The staff app in real headless Chromium against the app on 127.0.0.1, with its
 * publication and delivery workers and a real SMTP server: the core flow with scripts
 * (tabs, live preview, chips, upload progress, previews, the release's page following
 * its publication and delivery live) and without them; every staff page at 1280, 390
 * and 320 px wide without sideways scrolling; axe-core on every page; screenshots
 * under test-artifacts/admin/.
 */

const artifacts = path.join(process.cwd(), 'test-artifacts', 'admin', process.env.TEST_DATABASE ?? 'sqlite');
mkdirSync(artifacts, { recursive: true });

let t: TestApp;
let server: HttpServer;
let base: string;
let browser: Browser;
let newsroom: NewsroomFixture;
let sink: SmtpSink;
let workers: RunningWorker[] = [];


beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  sink = await startSmtpSink();
  t = await startTestApp({ PUBLIC_URL: base, SMTP_URL: sink.url, MAIL_FROM: 'news@example.test' });
  workers = [await startDeliveryWorker(t.ctx), await startPublicationWorker(t.ctx)];
  server = t.app.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  newsroom = await buildNewsroom(t);
  await buildContact(t, newsroom);
  await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, newsroom.slug), [
    { email: 'toimittaja@example.fi', languages: ['fi'] },
    { email: 'redaktor@example.se', languages: ['sv'] },
  ]);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await t?.ctx.subscriptionMail.queue.obliterate({ force: true }).catch(() => undefined);
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  for (const worker of workers) await worker.close();
  await t?.close();
  await sink?.close();
});

/** axe-core on the page as it is: no violation at all. */
async function checkAccessibility(page: Page, name: string): Promise<void> {
  expect({ page: name, violations: await accessibilityViolations(page) }).toEqual({ page: name, violations: [] });
}

/** Nothing on the page is wider than the window: it never scrolls sideways. */
async function checkNoSidewaysScroll(page: Page, name: string): Promise<void> {
  const widths = await page.evaluate(() => {
    type El = { tagName: string; id: string; className: unknown; parentElement: El | null; getBoundingClientRect(): { right: number } };
    const { document, getComputedStyle } = globalThis as unknown as {
      document: { documentElement: { scrollWidth: number; clientWidth: number }; querySelectorAll(s: string): Iterable<El> };
      getComputedStyle(el: El): { overflowX: string };
    };
    const root = document.documentElement;
    const clipped = (el: El): boolean => !!el.parentElement && (getComputedStyle(el.parentElement).overflowX !== 'visible' || clipped(el.parentElement));
    // The elements that stick out (not inside a box that scrolls or clips them), to say what to fix.
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5 && !clipped(el))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className ? `.${el.className.split(' ').join('.')}` : ''}`);
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide };
  });
  expect({ page: name, ...widths, fits: widths.scrollWidth <= widths.clientWidth }).toEqual({ page: name, ...widths, fits: true });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/admin/sign-in`);
  await page.getByLabel(/Token/).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin/releases`);
}

/**
 * A publication time `seconds` from now, as the newsroom's clocks read it. The field
 * offers minutes; the server also takes seconds, which lets the test wait seconds, not a minute.
 */
function secondsAhead(seconds: number): string {
  const at = new Date(Date.now() + seconds * 1000);
  return `${instantToZoned(at.toISOString(), 'Europe/Helsinki')}:${String(at.getUTCSeconds()).padStart(2, '0')}`;
}

async function waitUntilPublished(page: Page, id: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.goto(`${base}/admin/releases?status=published`);
    if (await page.locator(`a[href="/admin/releases/${id}"]`).count()) return;
    await page.waitForTimeout(500);
  }
  throw new Error('the release did not become published');
}

describe('staff app in Chromium', () => {
  it('signs in, writes a bilingual release with an image, previews it, schedules it and watches it published and delivered', async () => {
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'America/New_York' });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The browser logs the 422 of the form sent with a field error: that one is expected.
    page.on('console', (m) => m.type() === 'error' && !m.text().includes('status of 422') && errors.push(m.text()));

    await page.goto(`${base}/admin/sign-in`);
    await checkAccessibility(page, 'sign-in');
    await shot(page, '01-sign-in');
    await signIn(page, newsroom.token);
    await checkAccessibility(page, 'releases (empty)');

    await page.getByRole('link', { name: 'New release' }).click();
    // Scripts turned the languages into tabs.
    const finnishTab = page.getByRole('tab', { name: 'Finnish' });
    const swedishTab = page.getByRole('tab', { name: 'Swedish' });
    await expect(finnishTab.getAttribute('aria-selected')).resolves.toBe('true');
    await page.locator('#f-translations-fi-title').fill('Uusi kirjasto avataan');
    await page.locator('#f-translations-fi-lead').fill('Kaupunki avaa uuden kirjaston.');
    await page.locator('#f-translations-fi-body').fill('Kirjasto avataan **maanantaina**.\n\n- lainaus\n- lukusali');
    // The live preview comes from the server's sanitiser.
    await page.locator('#preview-fi strong').filter({ hasText: 'maanantaina' }).waitFor();
    // Enter or a comma in the keyword field makes a chip; Enter never sends the form.
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && !r.url().endsWith('/admin/preview') && posts.push(r.url()));
    const keywords = page.locator('#f-keywords-fi');
    const keywordValue = page.locator('input[type="hidden"][name="keywords.fi"]');
    await keywords.pressSequentially('kirjasto');
    await keywords.press('Enter');
    await keywords.pressSequentially('kulttuuri,');
    await expect(page.locator('#f-keywords-fi ~ ul.chips li').count()).resolves.toBe(2);
    await expect(keywords.inputValue()).resolves.toBe('');
    await expect(keywordValue.inputValue()).resolves.toBe('kirjasto, kulttuuri');
    await page.getByRole('button', { name: 'Remove keyword kulttuuri' }).click();
    await expect(keywordValue.inputValue()).resolves.toBe('kirjasto');
    // Left in the field unconfirmed, it still goes with the save.
    await keywords.pressSequentially('kulttuuri');
    // Enter in the title does not send the form either.
    await page.locator('#f-translations-fi-title').press('Enter');
    await page.locator('#f-translations-fi-lead').press('End');
    expect(posts).toEqual([]);
    expect(page.url()).toBe(`${base}/admin/releases/new`);
    await swedishTab.click();
    await expect(page.locator('#f-translations-fi-title').isVisible()).resolves.toBe(false);
    await page.locator('#f-translations-sv-title').fill('Nytt bibliotek öppnas');
    await page.locator('#f-translations-sv-body').fill('Biblioteket öppnas **på måndag**.');
    await page.locator('#f-keywords-sv').fill(`bibliotek, ${'x'.repeat(70)}`);
    await expect(page.locator('#f-keywords-sv ~ ul.chips li').count()).resolves.toBe(1);
    await page.getByLabel(/^Maija Meikäläinen/).check();
    await checkAccessibility(page, 'editor (new)');
    await shot(page, '02-editor-new');
    await page.getByRole('button', { name: 'Save draft' }).click();

    // The keyword is too long: the error is next to the field, in the tab it belongs to.
    await page.locator('.error-summary').waitFor();
    await expect(page.locator('#f-keywords-sv-error').isVisible()).resolves.toBe(true);
    await expect(swedishTab.getAttribute('aria-selected')).resolves.toBe('true');
    await expect(page.locator('#f-translations-fi-title').inputValue()).resolves.toBe('Uusi kirjasto avataan');
    await checkAccessibility(page, 'editor (field error)');
    await shot(page, '03-editor-field-error');
    await page.getByRole('button', { name: `Remove keyword ${'x'.repeat(70)}` }).click();
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Saved.').waitFor();
    const id = /\/admin\/releases\/([^?#]+)/.exec(page.url())![1]!;

    // An image, uploaded with a progress bar.
    const image = await sharp({ create: { width: 1200, height: 800, channels: 3, background: { r: 30, g: 110, b: 170 } } }).jpeg().toBuffer();
    await page.locator('#upload-file').setInputFiles({ name: 'kirjasto.jpg', mimeType: 'image/jpeg', buffer: image });
    await page.locator('#upload-caption-fi').fill('Kirjaston lukusali');
    await page.locator('#upload-credit').fill('Kaupunki');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('.attachment img.thumb').waitFor();
    await expect(page.locator('.attachment img.thumb').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).resolves.toBeGreaterThan(0);
    await checkAccessibility(page, 'editor (saved, with image)');
    await shot(page, '04-editor-saved');

    // Previews before publication: the page as the site renders it, its embargoed image
    // included (from the staff app's own file URL), and the email in each language.
    const preview = await context.newPage();
    await preview.goto(`${base}/admin/releases/${id}/preview/sv`);
    await expect(preview.locator('h1').textContent()).resolves.toContain('Nytt bibliotek öppnas');
    const previewImage = preview.locator('img[src^="/admin/files/"]').first();
    await previewImage.waitFor();
    await expect(previewImage.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).resolves.toBeGreaterThan(0);
    await shot(preview, '04b-preview-page-sv');
    await preview.goto(`${base}/admin/releases/${id}/email/fi`);
    await expect(preview.locator('body').textContent()).resolves.toContain('Uusi kirjasto avataan');
    const emailImage = preview.locator('img[src^="/admin/files/"]').first();
    await emailImage.waitFor();
    await expect(emailImage.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).resolves.toBeGreaterThan(0);
    await shot(preview, '04c-preview-email-fi');
    await preview.close();
    await t.http.get(`/api/releases/${id}`).expect(404); // still under embargo
    expect(sink.received).toHaveLength(0);

    // Scheduled a few seconds ahead, in the newsroom's zone; the browser's own zone is shown too.
    // The field offers minutes only.
    await expect(page.locator('#f-publishAt').getAttribute('step')).resolves.toBeNull();
    await page.locator('#f-publishAt').fill(secondsAhead(8));
    await page.locator('.local-time').waitFor();
    await expect(page.locator('.local-time').textContent()).resolves.toMatch(/In your own time zone:/);
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.locator('.release-state .status-scheduled').waitFor();
    await expect(page.locator('#delivery').isHidden()).resolves.toBe(true);
    await checkAccessibility(page, 'editor (scheduled)');
    await shot(page, '05-editor-scheduled');

    // The page, left open, follows the publication and the delivery without a reload.
    await page.evaluate(() => Object.assign(globalThis, { openedBeforePublication: true }));
    await page.locator('.release-state .status-published').waitFor({ timeout: 30_000 });
    await expect(page.locator('.release-state .status').textContent()).resolves.toBe('Published');
    await expect(page.locator('.release-state .state-when').textContent()).resolves.toMatch(/^published .* \(Europe\/Helsinki\)$/);
    await page.locator('.delivery-counts').filter({ hasText: 'Email: 2 of 2 sent' }).waitFor({ timeout: 30_000 });
    await expect(page.locator('.delivery-progress').evaluate((bar) => [(bar as unknown as { value: number }).value, (bar as unknown as { max: number }).max])).resolves.toEqual([2, 2]);
    // Its controls follow too: no more scheduling, withdrawal instead; the report comes in.
    await expect(page.locator('form.schedule').isHidden()).resolves.toBe(true);
    await expect(page.getByRole('link', { name: 'Withdraw…' }).isVisible()).resolves.toBe(true);
    await page.locator('#delivery-report .delivery-chart').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { openedBeforePublication?: boolean }).openedBeforePublication)).toBe(true);
    await checkAccessibility(page, 'editor (delivered)');
    await shot(page, '06-editor-published-live');
    expect(await until(() => sink.received.length === 2)).toBe(true);
    // The page took over the version the publication gave: an edit saves, no conflict.
    await page.getByRole('tab', { name: 'Finnish' }).click();
    await page.locator('#f-translations-fi-lead').fill('Kaupunki avaa uuden kirjaston maanantaina.');
    // Public now: the edit says what it is (the question appeared with the status).
    await page.getByLabel('Correction: shown with a note').check();
    await page.locator('#f-change-note-fi').fill('Avajaispäivä lisätty.');
    await page.locator('#f-change-note-sv').fill('Öppningsdagen tillagd.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor();
    await expect(page.locator('#corrections').textContent()).resolves.toContain('Avajaispäivä lisätty.');
    await page.goto(`${base}/admin/releases?status=published`);
    await checkAccessibility(page, 'releases (published)');
    await shot(page, '06b-releases-published');
    const subjects = Object.fromEntries(sink.received.map((m) => [m.to, m.mail.subject]));
    expect(subjects).toEqual({ 'toimittaja@example.fi': 'Uusi kirjasto avataan', 'redaktor@example.se': 'Nytt bibliotek öppnas' });

    const api = await t.http.get(`/api/releases/${id}`).set(newsroom.auth).expect(200);
    expect(api.body).toMatchObject({
      status: 'published',
      translations: { fi: { title: 'Uusi kirjasto avataan' }, sv: { title: 'Nytt bibliotek öppnas' } },
      keywords: { fi: ['kirjasto', 'kulttuuri'], sv: ['bibliotek'] },
    });
    expect(api.body.attachments[0]).toMatchObject({ filename: 'kirjasto.jpg', caption: { fi: 'Kirjaston lukusali' }, credit: 'Kaupunki' });

    for (const [name, url] of [
      ['withdraw-confirm', `/admin/releases/${id}/withdraw`],
      ['contacts', '/admin/contacts'],
      ['subscribers', '/admin/subscribers'],
      ['settings', '/admin/settings'],
    ]) {
      await page.goto(`${base}${url}`);
      await checkAccessibility(page, name!);
      await shot(page, `07-${name}`);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('works without JavaScript: write, save, schedule', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'fi-FI' });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto(`${base}/admin/sign-in`);
    await page.getByLabel(/Avain/).fill(newsroom.token);
    await page.getByRole('button', { name: 'Kirjaudu' }).click();
    await page.waitForURL(`${base}/admin/releases`);
    await page.getByRole('link', { name: 'Uusi tiedote' }).click();
    // No tabs: every language is on the page.
    await expect(page.getByRole('tab').count()).resolves.toBe(0);
    await page.locator('#f-translations-fi-title').fill('Ilman skriptejä');
    await page.locator('#f-translations-sv-title').fill('Utan skript');
    await page.locator('#f-translations-fi-body').fill('Toimii **silti**.');
    await page.locator('#f-keywords-fi').fill('saavutettavuus');
    await page.getByRole('button', { name: 'Tallenna luonnos' }).click();
    await page.getByText('Tallennettu.').waitFor();
    await expect(page.locator('#preview-fi strong').textContent()).resolves.toBe('silti');
    await shot(page, '08-nojs-saved');
    const id = /\/admin\/releases\/([^?#]+)/.exec(page.url())![1]!;

    // A past time: the error is next to the field.
    await page.locator('#f-publishAt').fill('2020-01-01T10:00:00');
    await page.getByRole('button', { name: 'Ajasta' }).click();
    await page.locator('#f-publishAt-error').waitFor();
    await shot(page, '09-nojs-schedule-error');
    await page.locator('#f-publishAt').fill(secondsAhead(4));
    await page.getByRole('button', { name: 'Ajasta' }).click();
    await page.locator('.status-scheduled').first().waitFor();
    await waitUntilPublished(page, id);
    await shot(page, '10-nojs-published');

    // Publish-now and withdraw confirmations are pages of their own.
    await page.goto(`${base}/admin/releases/${id}`);
    await page.getByRole('link', { name: 'Vedä pois…' }).click();
    await page.getByRole('button', { name: 'Vedä pois' }).click();
    await page.locator('.status-withdrawn').first().waitFor();
    expect((await t.http.get(`/api/releases/${id}`).set(newsroom.auth)).body.status).toBe('withdrawn');
    await context.close();

    // axe-core needs scripts of its own: the pages as they are without ours, checked with our script blocked.
    const blocked = await browser.newContext({ locale: 'fi-FI' });
    blocked.setDefaultTimeout(15_000);
    await blocked.route('**/admin/static/admin.js', (route) => route.abort());
    const plain = await blocked.newPage();
    await plain.goto(`${base}/admin/sign-in`);
    await plain.getByLabel(/Avain/).fill(newsroom.token);
    await plain.getByRole('button', { name: 'Kirjaudu' }).click();
    await plain.waitForURL(`${base}/admin/releases`);
    for (const url of ['/admin/releases', '/admin/releases/new', `/admin/releases/${id}`]) {
      await plain.goto(`${base}${url}`);
      await checkAccessibility(plain, `${url} (without our script)`);
    }
    await blocked.close();
  }, 90_000);
  it('fits every staff page at 1280, 390 and 320 px: no sideways scrolling, no axe violation', async () => {
    // A newsroom of its own with content that tends to widen pages: long words, a long
    // address, a release delivered with one email retried and one refused.
    const room = await buildNewsroom(t, { name: { fi: 'Pohjois-Esimerkin kaupunginkanslian viestintäyksikkö', sv: 'Norra Exempels stadskansli' } });
    const roomId = await newsroomId(t.ctx.db, room.slug);
    const contact = await buildContact(t, room, { email: 'viestintayksikon.paivystysnumero.ja.mediapalvelut@pohjois-esimerkki.example.fi' });
    const longWord = 'Talousarvioehdotusvalmistelutyöryhmäraportti';
    const published = await buildRelease(t, room, {
      contactIds: [contact.id],
      keywords: { fi: [longWord.toLowerCase()], sv: ['budget'] },
      translations: {
        fi: { title: `${longWord} julkaistiin`, lead: 'Kaupunki julkaisi raportin.', body: `Raportti: https://pohjois-esimerkki.example.fi/${'asiakirjat/'.repeat(8)}raportti.pdf` },
        sv: { title: 'Budgetrapporten publicerades', lead: 'Staden publicerade rapporten.', body: 'Rapporten.' },
      },
    });
    const scheduled = await buildRelease(t, room);
    await t.http.post(`/api/releases/${scheduled.id}/schedule`).set(room.auth).send({ publishAt: new Date(Date.now() + 86_400_000).toISOString() }).expect(200);
    await buildRelease(t, room);
    await insertSubscribers(t.ctx.db, roomId, [
      ...['a', 'b', 'c', 'd'].map((x) => ({ email: `lukija-${x}@pohjois.example`, languages: ['fi'] })),
      { email: 'later@pohjois.example', languages: ['sv'] },
      { email: 'bounce@pohjois.example', languages: ['fi'] },
    ]);
    sink.reply = (to, attempt) =>
      to === 'bounce@pohjois.example' ? { code: 550, message: '5.1.1 No such mailbox here' } : to === 'later@pohjois.example' && attempt === 1 ? { code: 451, message: '4.3.0 Try again later' } : undefined;
    await t.http.post(`/api/releases/${published.id}/publish`).set(room.auth).expect(200);
    const delivered = await until(async () => {
      const report = (await t.http.get(`/api/releases/${published.id}/deliveries`).set(room.auth)).body;
      return report.total === 6 && report.queued === 0;
    }, 40_000);
    expect(delivered).toBe(true);

    // A bounce after acceptance with a long reason, and a returned message that is no report, with long lines.
    const bounced = await t.ctx.db
      .selectFrom('deliveries')
      .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
      .select(['deliveries.message_id', 'subscribers.id', 'subscribers.email'])
      .where('deliveries.release_id', '=', published.id)
      .where('subscribers.email', '=', 'lukija-a@pohjois.example')
      .executeTakeFirstOrThrow();
    const dsn = fixture('exim-unrouteable.eml', { returnPath: 'news@example.test', recipient: bounced.email, messageId: bounced.message_id! })
      .replace(/Diagnostic-Code: [^\r]*/, `Diagnostic-Code: smtp; 550 5.1.1 <${bounced.email}>: ${longWord.repeat(4)} https://pohjois.example/${'ohje/'.repeat(20)}`);
    expect(await handleReturnedMessage(t.ctx, 'smtp', Buffer.from(dsn))).toBe('recorded');
    const autoReply = `From: lukija@pohjois.example\r\nSubject: ${longWord.repeat(3)}\r\n\r\n${'Poissa toimistolta. '.repeat(20)}\r\n${'x'.repeat(300)}\r\n`;
    expect(await handleReturnedMessage(t.ctx, 'smtp', Buffer.from(autoReply))).toBe('unclassified');

    const staffPages: [string, string][] = [
      ['releases', '/admin/releases'],
      ['editor-new', '/admin/releases/new'],
      ['editor-scheduled', `/admin/releases/${scheduled.id}`],
      ['editor-delivered', `/admin/releases/${published.id}`],
      ['withdraw-confirm', `/admin/releases/${published.id}/withdraw`],
      ['contacts', '/admin/contacts'],
      ['subscribers', '/admin/subscribers'],
      ['bounce-history', `/admin/subscribers/${bounced.id}/bounces`],
      ['settings', '/admin/settings'],
    ];
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
      [320, 640],
    ] as const) {
      const context = await browser.newContext({ viewport: { width, height }, locale: 'fi-FI' });
      context.setDefaultTimeout(20_000);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      const check = async (name: string) => {
        await checkNoSidewaysScroll(page, `${name} at ${width} px`);
        if (width === 320) return;
        await checkAccessibility(page, `${name} at ${width} px`);
        await shot(page, `w${width}-${name}`);
      };
      await page.goto(`${base}/admin/sign-in`);
      await check('sign-in');
      await page.getByLabel(/Avain/).fill(room.token);
      await page.getByRole('button', { name: 'Kirjaudu' }).click();
      await page.waitForURL(`${base}/admin/releases`);
      for (const [name, url] of staffPages) {
        await page.goto(`${base}${url}`);
        if (name === 'editor-delivered') await page.locator('.delivery-chart').waitFor();
        await check(name);
      }
      // The menu is all there, none of it cut off.
      for (const link of ['Tiedotteet', 'Yhteyshenkilöt', 'Tilaajat', 'Uutishuoneen asetukset']) {
        const box = await page.getByRole('navigation', { name: 'Päävalikko' }).getByRole('link', { name: link }).boundingBox();
        expect([link, box!.x >= 0 && box!.x + box!.width <= width]).toEqual([link, true]);
      }
      // An invitation import: its result is the page the post redirects to; a reload shows it no more.
      await page.goto(`${base}/admin/subscribers`);
      await page.locator('#f-file').setInputFiles({ name: 'kutsut.csv', mimeType: 'text/csv', buffer: Buffer.from(`email,languages\nkutsuttu-${width}@pohjois.example,fi\nei-osoite,fi\n`) });
      await page.getByRole('button', { name: 'Lähetä vahvistuspyynnöt' }).click();
      await page.waitForURL(`${base}/admin/subscribers#import-result`);
      await page.locator('#import-result').waitFor();
      await check('subscribers-imported');
      await page.reload();
      await expect(page.locator('#import-result').count()).resolves.toBe(0);
      await context.close();

      // The admin's page of newsrooms and tokens.
      const adminContext = await browser.newContext({ viewport: { width, height }, locale: 'fi-FI' });
      const admin = await adminContext.newPage();
      await admin.goto(`${base}/admin/sign-in`);
      await admin.getByLabel(/Avain/).fill(ADMIN_TOKEN);
      await admin.getByRole('button', { name: 'Kirjaudu' }).click();
      await admin.waitForURL(`${base}/admin/newsrooms`);
      await checkNoSidewaysScroll(admin, `newsrooms at ${width} px`);
      if (width !== 320) {
        await checkAccessibility(admin, `newsrooms at ${width} px`);
        await shot(admin, `w${width}-newsrooms`);
      }
      // The returned messages that named no delivery, the message opened.
      await admin.goto(`${base}/admin/bounces`);
      await admin.locator('.kept-bounce summary').first().click();
      await checkNoSidewaysScroll(admin, `bounces at ${width} px`);
      if (width !== 320) {
        await checkAccessibility(admin, `bounces at ${width} px`);
        await shot(admin, `w${width}-bounces`);
      }
      await adminContext.close();
      expect(errors).toEqual([]);
    }
    sink.reply = () => undefined;
  }, 300_000);
});
