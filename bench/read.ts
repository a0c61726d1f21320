/*
 * Public read path against express.static, measured in the same run.
 *
 *   npm run bench:read                      # embedded SQLite
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:read
 *
 * For a release page, a newsroom page and an RSS feed (each from its URL in
 * src/site/urls.ts), the server also serves, with express.static, a file of exactly the
 * same size from the same process; autocannon (in a process of its own, on loopback)
 * loads each in turn, then the 304 path of each (If-None-Match with the ETag it got).
 * It prints requests/s, latency p50/p99 and the ratio to static, and the server's CPU
 * time per request with its ratio (static's over the case's): on a machine shared with
 * other work, CPU per request is the steadier of the two. Goal: each >= 0.8 of
 * static, the 304 path >= 1.0. Each 200 is measured twice: as asked with no
 * Accept-Encoding (the plain bytes) and as a browser asks (`br, gzip`: the Brotli bytes
 * kept in the render cache), each against a static file of its own size; the bytes column
 * is what went over the wire. The static files are served from inside the app, where
 * the public routers are mounted (after the middleware and the API routes), as the
 * site's own stylesheet would be; BENCH_BARE_STATIC=1 mounts them ahead of everything
 * instead. The first row, GET /healthz (an API route that does nothing), is for scale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import { buildApp } from '../src/app.js';
import { newsroomPageUrl, newsroomRssUrl, releasePageUrl } from '../src/site/urls.js';
import { apiCaller, autocannon, BENCH_ADMIN as ADMIN, benchService, listenLocally, printTable } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const RELEASES = 60; // more than a feed holds
const service = await benchService('read', { PUBLIC_URL: 'http://127.0.0.1' });
const { dir, config, ctx } = service;
const staticDir = path.join(dir, 'static');
mkdirSync(staticDir);
const app = buildApp(ctx);
if (process.env.BENCH_BARE_STATIC) {
  // The static files ahead of the whole app: no helmet, logging or body parsing.
  app.router.stack.unshift(...detachedLayers(express.static(staticDir)));
} else {
  // The static files where the public routers are mounted, right after the API routes: a
  // static file pays the same middleware (helmet, request log, JSON parser) and API
  // route matching as a feed, so the ratio is the cost of the public route itself.
  const afterApi = app.router.stack.findIndex((layer: { name: string }) => layer.name === 'routesUnderTheirPrefixes') + 1;
  if (afterApi === 0) throw new Error('bench: the API router was not found in the app');
  app.router.stack.splice(afterApi, 0, ...detachedLayers(express.static(staticDir)));
}
const { server, origin } = await listenLocally(app);

/** Router layers mounting `handler` at /static-baseline, built by a throwaway app (express has no public insert). */
function detachedLayers(handler: express.Handler) {
  const scratch = express();
  scratch.use('/static-baseline', handler);
  return scratch.router.stack.slice(-1);
}

const call = apiCaller(origin);

// A bilingual newsroom with a contact and more published releases than a feed holds.
const slug = `bench-${process.pid}`;
await call('POST', '/api/newsrooms', ADMIN, {
  slug,
  languages: ['fi', 'sv'],
  name: { fi: 'Penkkikaupunki', sv: 'Bänkstad' },
  boilerplate: { fi: 'Penkkikaupunki on **kaupunki**.', sv: 'Bänkstad är en **stad**.' },
  timezone: 'Europe/Helsinki',
});
const { token } = await call('POST', `/api/newsrooms/${slug}/tokens`, ADMIN, { name: 'bench' });
const contact = await call('POST', `/api/newsrooms/${slug}/contacts`, token, {
  name: 'Maija Meikäläinen',
  title: { fi: 'viestintäjohtaja', sv: 'kommunikationsdirektör' },
  phone: '+358 40 123 4567',
  email: 'maija@example.org',
});
let release: any;
for (let n = 0; n < RELEASES; n++) {
  release = await call('POST', `/api/newsrooms/${slug}/releases`, token, {
    translations: {
      fi: { title: `Tiedote ${n}`, lead: 'Ingressi.', body: '## Otsikko\n\nKappale **lihavoitu** ja [linkki](https://example.org).\n\n'.repeat(8) },
      sv: { title: `Meddelande ${n}`, lead: 'Ingress.', body: '## Rubrik\n\nStycke **fet** och [länk](https://example.org).\n\n'.repeat(8) },
    },
    keywords: { fi: ['kirjasto', 'kulttuuri'], sv: ['bibliotek'] },
    contactIds: [contact.id],
  });
  await call('POST', `/api/releases/${release.id}/publish`, token);
}

const path_ = (url: string) => url.slice(config.publicUrl.length);
const cases = [
  // The floor: the app's cheapest route, through the middleware every app route pays.
  { name: 'app floor: /healthz', url: '/healthz' },
  { name: 'release page', url: path_(releasePageUrl(config.publicUrl, slug, 'fi', release.id, release.translations.fi.title)) },
  { name: 'newsroom page', url: path_(newsroomPageUrl(config.publicUrl, slug, 'fi')) },
  { name: 'RSS feed', url: path_(newsroomRssUrl(config.publicUrl, slug, 'fi')) },
];

interface Load {
  perSecond: number;
  p50: number;
  p99: number;
  /** Server CPU time (user + system) per request, in microseconds: steadier than req/s on a busy machine. */
  cpuMicros: number;
}

/** autocannon on `url`; the 304 cases (If-None-Match) answer no 2xx. */
async function load(url: string, headers: Record<string, string> = {}): Promise<Load> {
  const cpu = process.cpuUsage();
  const result = await autocannon(origin + url, { connections: CONNECTIONS, seconds: SECONDS, headers, allowNon2xx: 'If-None-Match' in headers });
  const used = process.cpuUsage(cpu);
  return {
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMicros: (used.user + used.system) / result.requests.total,
  };
}

/** The status, ETag and bytes of `url` as sent (Node's fetch would decode them). */
const rawGet = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; etag: string; encoded: boolean; body: Buffer }>((resolve, reject) => {
    http
      .get(origin + url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, etag: String(res.headers.etag), encoded: 'content-encoding' in res.headers, body: Buffer.concat(chunks) }),
        );
      })
      .on('error', reject);
  });

const BROWSER = { 'Accept-Encoding': 'br, gzip' };

/** A static file of exactly these bytes, and its ETag. */
async function staticCopy(name: string, body: Buffer) {
  const file = `${name.replace(/\W+/g, '-')}.bin`;
  writeFileSync(path.join(staticDir, file), body);
  const url = `/static-baseline/${file}`;
  return { url, etag: (await rawGet(url)).etag };
}

const rows: string[][] = [];
const notHere: string[] = [];
for (const c of cases) {
  const plain = await rawGet(c.url);
  if (plain.status === 404) {
    notHere.push(`${c.name} (${c.url}): 404, the page is not on this branch yet`);
    continue;
  }
  if (plain.status !== 200) throw new Error(`${c.name}: ${plain.status}`);
  const compressed = await rawGet(c.url, BROWSER);
  const plainCopy = await staticCopy(c.name, plain.body);
  const compressedCopy = await staticCopy(`${c.name} br`, compressed.body);
  for (const [label, bytes, target, baseline] of [
    ['200', plain.body.length, () => load(c.url), () => load(plainCopy.url)],
    // Only what is compressed (not /healthz).
    ...(compressed.encoded ? ([['200 br', compressed.body.length, () => load(c.url, BROWSER), () => load(compressedCopy.url)]] as const) : []),
    ['304', 0, () => load(c.url, { 'If-None-Match': plain.etag }), () => load(plainCopy.url, { 'If-None-Match': plainCopy.etag })],
  ] as const) {
    const s = await baseline();
    const r = await target();
    rows.push([
      `${c.name} ${label}`,
      String(bytes),
      r.perSecond.toFixed(0),
      `${r.p50}/${r.p99}`,
      r.cpuMicros.toFixed(0),
      s.perSecond.toFixed(0),
      `${s.p50}/${s.p99}`,
      s.cpuMicros.toFixed(0),
      (r.perSecond / s.perSecond).toFixed(2),
      (s.cpuMicros / r.cpuMicros).toFixed(2),
      label === '304' ? '1.00' : '0.80',
    ]);
  }
}

const header = ['case', 'bytes', 'req/s', 'p50/p99 ms', 'CPU µs/req', 'static req/s', 'static p50/p99', 'static CPU µs/req', 'ratio req/s', 'ratio CPU', 'goal'];
console.log(`\n${config.databaseUrl.split(':')[0]}, ${CONNECTIONS} connections, ${SECONDS} s per case (autocannon)\n`);
printTable(header, rows);
for (const missing of notHere) console.log(`\n${missing}`);

server.close();
await service.close();
