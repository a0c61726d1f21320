import { mkdirSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startAdvanceWorker } from '../src/advance/worker.js';
import { startDeliveryWorker } from '../src/delivery/worker.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { accessibilityViolations } from './support/axe.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';
import { freePort } from './support/ports.js';

/*
 * Advance access walked in real headless Chromium against the app on 127.0.0.1, with the
 * advance, publication and delivery workers and a real SMTP server: staff accredit a
 * journalist and give a scheduled release advance access in the staff app; the journalist
 * opens the personal link (embargo banner); staff read the access log, edit the release
 * and tell the journalist "updated before publication"; staff publish it (the journalist,
 * no subscriber, gets the release email), correct it and notify its recipients, and
 * withdraw it with a reason, which its 410 page shows. Screenshots under
 * test-artifacts/advance/.
 */

const artifacts = path.join(process.cwd(), 'test-artifacts', 'advance', process.env.TEST_DATABASE ?? 'sqlite');
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
  workers = [await startAdvanceWorker(t.ctx), await startDeliveryWorker(t.ctx), await startPublicationWorker(t.ctx)];
  server = t.app.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  newsroom = await buildNewsroom(t);
  await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, newsroom.slug), [{ email: 'lukija@example.fi', languages: ['fi'] }]);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  for (const worker of workers) await worker.close();
  await t?.close();
  await sink?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
/** axe-core on the page as it is: no violation of any level. */
const expectAccessible = async (page: Page, name: string) =>
  expect({ page: name, violations: await accessibilityViolations(page) }).toEqual({ page: name, violations: [] });
const JOURNALIST = 'anna.reporter@example.net';
const mailsTo = (address: string) => sink.received.filter((m) => m.to === address);

describe('advance access in Chromium', () => {
  it('gives advance access in the staff app, opens the personal link, shows the log, then publishes, corrects and withdraws', async () => {
    const staffContext = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Helsinki' });
    staffContext.setDefaultTimeout(15_000);
    const staff = await staffContext.newPage();
    const errors: string[] = [];
    staff.on('pageerror', (e) => errors.push(e.message));

    await staff.goto(`${base}/admin/sign-in`);
    await staff.getByLabel(/Token/).fill(newsroom.token);
    await staff.getByRole('button', { name: 'Sign in' }).click();
    await staff.waitForURL(`${base}/admin/releases`);

    // Accredit a journalist who reads Swedish first.
    await staff.goto(`${base}/admin/journalists`);
    await staff.locator('[name="name"]').fill('Anna Reporter');
    await staff.locator('[name="outlet"]').fill('Radio Example');
    await staff.locator('[name="email"]').fill(JOURNALIST);
    await staff.locator('[name="languages"]').fill('sv, fi');
    await staff.getByRole('button', { name: 'Add journalist' }).click();
    await staff.getByRole('cell', { name: 'Anna Reporter' }).first().waitFor();

    // A release scheduled an hour ahead (written through the API: the editor has its own walk).
    const release = await buildRelease(t, newsroom);
    const publishAt = new Date(Date.now() + 3600_000).toISOString();
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt }).expect(200);

    await staff.goto(`${base}/admin/releases/${release.id}`);
    await staff.getByRole('link', { name: 'Advance access and access log' }).click();
    await staff.getByLabel('All active accredited journalists (also those added later)').check();
    await staff.getByRole('button', { name: 'Give advance access' }).click();
    expect(await until(() => mailsTo(JOURNALIST).length === 1, 20_000)).toBe(true);
    await staff.reload();
    await staff.getByText('Sent, live').waitFor();
    await expectAccessible(staff, 'advance access page');
    await shot(staff, '01-advance-given');

    // The journalist opens their personal link: the release under the embargo banner, in Swedish.
    const linkEmail = mailsTo(JOURNALIST)[0]!.mail;
    expect(linkEmail.subject).toMatch(/^EMBARGO – får publiceras /);
    const link = /http:\/\/127\.0\.0\.1:\d+\/advance\/[A-Za-z0-9_-]{43}/.exec(linkEmail.text!)![0];
    const journalistContext = await browser.newContext({ locale: 'sv-SE', userAgent: 'AnnaBrowser/1.0' });
    const reader = await journalistContext.newPage();
    const opened = await reader.goto(link);
    expect(opened?.status()).toBe(200);
    expect(opened?.headers()['x-robots-tag']).toBe('noindex');
    const banner = reader.locator('.embargo-banner');
    await expect(banner.isVisible()).resolves.toBe(true);
    await expect(banner.innerText()).resolves.toContain('EMBARGO – får publiceras');
    await expect(reader.locator('h1').innerText()).resolves.toBe('Nytt bibliotek öppnas');
    await expectAccessible(reader, 'personal link');
    await shot(reader, '02-personal-link');

    // Staff see who opened it.
    await staff.reload();
    const log = staff.locator('table.access-log');
    await expect(log.innerText()).resolves.toContain('Anna Reporter, Radio Example');
    await expect(log.innerText()).resolves.toContain('AnnaBrowser/1.0');
    await shot(staff, '03-access-log');

    // An edit before publication, told to the journalist.
    await staff.goto(`${base}/admin/releases/${release.id}`);
    await staff.locator('#f-translations-fi-lead').fill('Kaupunki avaa uuden kirjaston toukokuussa.');
    await staff.getByLabel(/^Email the journalists holding advance links \(1\)/).check();
    await expectAccessible(staff, 'editor with the updated-before-publication checkbox');
    await staff.getByRole('button', { name: 'Save', exact: true }).click();
    await staff.getByText('Saved.').waitFor();
    expect(await until(() => mailsTo(JOURNALIST).length === 2, 20_000)).toBe(true);
    expect(mailsTo(JOURNALIST)[1]!.mail.subject).toMatch(/^Uppdaterat före publicering – EMBARGO/);
    expect(mailsTo(JOURNALIST)[1]!.mail.text).toContain('Ingress (FI)');
    // The link shows the new version.
    await reader.goto(link);
    await expect(reader.locator('body').innerText()).resolves.toContain('EMBARGO');

    // Published now: the subscriber and the journalist (no subscriber) get the release, once each.
    await staff.getByRole('link', { name: 'Publish now…' }).click();
    await staff.getByRole('button', { name: 'Publish now' }).click();
    expect(await until(() => mailsTo(JOURNALIST).length === 3 && mailsTo('lukija@example.fi').length === 1, 30_000)).toBe(true);
    const releaseEmail = mailsTo(JOURNALIST)[2]!.mail;
    expect(releaseEmail.subject).toBe('Nytt bibliotek öppnas');
    // The journalist's own unsubscribe page (it stops the release emails, not the accreditation).
    const unsubscribe = /<(http:\/\/127\.0\.0\.1:\d+\/unsubscribe\/journalist\/[^>]+)>/.exec(releaseEmail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line ?? '')?.[1];
    expect(unsubscribe).toBeDefined();
    await reader.goto(unsubscribe!);
    await expect(reader.locator('h1').innerText()).resolves.toBe('Sluta få pressmeddelanden');
    await expectAccessible(reader, 'journalist unsubscribe page');
    // The personal link now leads to the public page.
    await reader.goto(link);
    expect(reader.url()).toContain(`/${newsroom.slug}/sv/${release.id}/`);
    await expect(reader.locator('.embargo-banner').count()).resolves.toBe(0);

    // A correction, and its notice to those who received the release.
    await staff.goto(`${base}/admin/releases/${release.id}`);
    await staff.locator('#f-translations-fi-body').fill('Kirjasto avataan **tiistaina**.');
    await staff.getByLabel('Correction: shown with a note').check();
    await staff.locator('[name="change.note.fi"]').fill('Avajaispäivä korjattu tiistaiksi.');
    await staff.locator('[name="change.note.sv"]').fill('Öppningsdagen rättad till tisdag.');
    await staff.getByRole('button', { name: 'Save', exact: true }).click();
    await staff.getByText('Saved.').waitFor();
    await staff.getByRole('link', { name: 'Notify those who received it' }).click();
    await staff.getByRole('button', { name: 'Send notices' }).click();
    expect(await until(() => mailsTo(JOURNALIST).length === 4 && mailsTo('lukija@example.fi').length === 2, 30_000)).toBe(true);
    expect(mailsTo(JOURNALIST)[3]!.mail.subject).toBe('Rättelse: Nytt bibliotek öppnas');
    expect(mailsTo(JOURNALIST)[3]!.mail.text).toContain('Öppningsdagen rättad till tisdag.');
    await shot(staff, '04-corrected');

    // Withdrawn with a reason: the public page answers 410 and says why.
    await staff.getByRole('link', { name: 'Withdraw…' }).click();
    await staff.getByLabel('Public reason in Finnish (optional)').fill('Tiedote julkaistiin vahingossa.');
    await staff.getByLabel('Public reason in Swedish (optional)').fill('Meddelandet publicerades av misstag.');
    await staff.getByRole('button', { name: 'Withdraw', exact: true }).click();
    await staff.waitForURL(new RegExp(`/admin/releases/${release.id}`));
    const pageUrl = (await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200)).body.links.web.fi as string;
    const gone = await reader.goto(pageUrl);
    expect(gone?.status()).toBe(410);
    await expect(reader.locator('body').innerText()).resolves.toContain('Tiedote julkaistiin vahingossa.');
    await shot(reader, '05-withdrawn');

    // Nothing more reached the journalist: one email per step.
    expect(mailsTo(JOURNALIST)).toHaveLength(4);
    expect(errors).toEqual([]);
    await journalistContext.close();
    await staffContext.close();
  }, 180_000);
});
