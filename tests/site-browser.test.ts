import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import sharp from 'sharp';
import { startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { freePort } from './support/ports.js';

/*
 * The release page and the newsroom page in real headless Chromium, served on loopback:
 * no console errors, no request leaving the service, no serious or critical axe-core
 * violations. Screenshots are kept under test-artifacts/.
 */

const artifacts = path.resolve('test-artifacts');
const axeSource = readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');


let t: TestApp;
let server: HttpServer;
let browser: Browser;
let origin: string;
let newsroom: NewsroomFixture;
let release: Record<string, any>;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  t = await startTestApp({ PUBLIC_URL: origin });
  server = await new Promise((resolve) => {
    const s = t.app.listen(port, '127.0.0.1', () => resolve(s));
  });
  newsroom = await buildNewsroom(t, {
    brandColor: '#7a1f5c',
    social: { x: '@example', linkedin: 'https://www.linkedin.com/company/example-city-communications-and-media-relations-department' },
  });
  const contact = await buildContact(t, newsroom);
  release = await buildRelease(t, newsroom, {
    contactIds: [contact.id],
    keywords: { fi: ['kirjasto'], sv: ['bibliotek'] },
    translations: {
      fi: {
        title: 'Uusi kirjasto avataan keskustaan',
        lead: 'Kaupunki avaa uuden pääkirjaston maanantaina. Lainaaminen on maksutonta.',
        body: 'Kirjasto avataan **maanantaina** kello 10.\n\n## Aukioloajat\n\nMa–pe 8–20, la 10–16.\n\n<iframe src="https://www.youtube.com/embed/abc" title="Esittelyvideo"></iframe>',
      },
      sv: { title: 'Nytt bibliotek öppnas i centrum', lead: 'Staden öppnar ett nytt bibliotek.', body: 'Biblioteket öppnas **på måndag**.' },
    },
  });
  const photo = await sharp({ create: { width: 1800, height: 1200, channels: 3, background: { r: 40, g: 110, b: 170 } } }).jpeg().toBuffer();
  await buildAttachment(t, newsroom, release.id, {
    bytes: photo,
    filename: 'kirjasto.jpg',
    fields: { caption_fi: 'Kirjaston julkisivu', caption_sv: 'Bibliotekets fasad', credit: 'Kaupunki' },
  });
  await buildAttachment(t, newsroom, release.id, { filename: 'esite.pdf' });
  await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
  const other = await buildRelease(t, newsroom, { contactIds: [contact.id] });
  await t.http.post(`/api/releases/${other.id}/publish`).set(newsroom.auth).expect(200);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  mkdirSync(artifacts, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

async function visit(url: string, screenshot: string, viewport = { width: 1024, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  const requested: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  context.on('request', (request) => requested.push(request.url()));
  const failed: string[] = [];
  page.on('requestfailed', (request) => failed.push(request.url()));
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
  });

  const response = await page.goto(url, { waitUntil: 'networkidle' });
  expect(response?.status()).toBe(200);
  // Images below the fold load lazily: scroll so that every one is asked for.
  await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: path.join(artifacts, screenshot), fullPage: true });

  // axe-core runs through the DevTools protocol: the page's CSP (rightly) refuses inline script.
  await page.evaluate(axeSource);
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as {
    violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  };
  const describe_ = (v: (typeof result.violations)[number]) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`;
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map(describe_);
  const violations = result.violations.map(describe_);
  // How far the page scrolls sideways (0: not at all).
  const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;

  const images = (await page.evaluate(
    `[...document.images].map((img) => ({ alt: img.alt, loaded: img.complete && img.naturalWidth > 0 }))`,
  )) as { alt: string; loaded: boolean }[];
  await context.close();
  return { errors, requested, failed, serious, violations, overflow, images };
}

describe('public pages in a real browser', () => {
  it('release page: no console errors, nothing requested elsewhere, no serious accessibility violation', async () => {
    const { errors, requested, failed, serious, images } = await visit(release.links.web.fi, 'release-fi.png');
    expect(errors).toEqual([]);
    expect(failed).toEqual([]);
    expect(requested.length).toBeGreaterThan(2);
    for (const url of requested) expect(new URL(url).origin).toBe(origin);
    expect(requested.some((u) => u.includes('/static/site.css'))).toBe(true);
    expect(requested.some((u) => /\/files\/[^/]+\/web$/.test(u))).toBe(true);
    expect(images).toEqual([{ alt: 'Kirjaston julkisivu', loaded: true }]);
    expect(serious).toEqual([]);
  }, 60_000);

  it('release page in Swedish, as a phone shows it', async () => {
    const { errors, requested, serious } = await visit(release.links.web.sv, 'release-sv-phone.png', { width: 390, height: 844 });
    expect(errors).toEqual([]);
    for (const url of requested) expect(new URL(url).origin).toBe(origin);
    expect(serious).toEqual([]);
  }, 60_000);

  it('newsroom page: the same', async () => {
    const { errors, requested, failed, serious } = await visit(newsroom.body.links.web.fi, 'newsroom-fi.png');
    expect(errors).toEqual([]);
    expect(failed).toEqual([]);
    for (const url of requested) expect(new URL(url).origin).toBe(origin);
    expect(serious).toEqual([]);
  }, 60_000);
});

describe('walk through the public pages at desktop and phone widths', () => {
  const pages = () => [
    ['front', `${origin}/`],
    ['front-sv', `${origin}/?lang=sv`],
    ['newsroom', newsroom.body.links.web.fi],
    ['release', release.links.web.fi],
    ['release-sv', release.links.web.sv],
    ['keyword', `${origin}/${newsroom.slug}/fi/keyword/kirjasto`],
    ['search', `${origin}/${newsroom.slug}/fi/search?q=kirjasto`],
    ['check-your-email', `${origin}/${newsroom.slug}/fi/subscription-requested`],
  ] as const;

  for (const viewport of [
    { width: 1280, height: 900 },
    { width: 390, height: 844 },
    { width: 320, height: 640 },
  ]) {
    it(`at ${viewport.width} px: no page scrolls sideways, no axe-core violation, nothing from elsewhere`, async () => {
      const problems: string[] = [];
      for (const [name, url] of pages()) {
        const { errors, requested, failed, violations, overflow } = await visit(url, `walk-${name}-${viewport.width}.png`, viewport);
        if (overflow > 0) problems.push(`${name}: scrolls sideways by ${overflow} px`);
        for (const v of violations) problems.push(`${name}: ${v}`);
        for (const e of [...errors, ...failed]) problems.push(`${name}: ${e}`);
        for (const u of requested) if (new URL(u).origin !== origin) problems.push(`${name}: asked ${u}`);
      }
      expect(problems).toEqual([]);
    }, 180_000);
  }
});
