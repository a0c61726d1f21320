/*
 * WebSub content distribution at the publication time, against bare POSTs of the same
 * feed to the same callbacks measured in the same run.
 *
 *   npm run bench:websub -- --subscribers 300
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:websub
 *
 * The app, its publication and aggregator workers and a callback server (the
 * subscribers, on loopback) run in this process. A release is scheduled 3 s ahead; the
 * figures are how long after its publication time the first and the last subscriber
 * had the feed. The baseline is the same number of POSTs of the same feed body, sent
 * straight from this process with the worker's concurrency (32).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { pino } from 'pino';
import { startAggregatorWorker } from '../src/aggregators/worker.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/lib/config.js';
import { dropSchema } from '../src/lib/db/database.js';
import { outboundRequest } from '../src/lib/outbound.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { closeContext, createContext } from '../src/runtime.js';
import { apiCaller } from './support.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SUBSCRIBERS = arg('subscribers', 300);
const ADMIN = 'bench-admin-token-0123456789abcdef';

const arrivals: number[] = [];
const callbacks = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'POST') arrivals.push(Date.now());
    res.end();
  });
});
await new Promise<void>((resolve) => callbacks.listen(0, '127.0.0.1', resolve));
const callbackBase = `http://127.0.0.1:${(callbacks.address() as AddressInfo).port}`;

const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-websub-'));
const schema = `bench_websub_${process.pid}`;
const config = loadConfig({
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, 'bench.db')}`,
  STORAGE_DIR: path.join(dir, 'files'),
  ADMIN_TOKEN: ADMIN,
  SIGNING_SECRET: 'bench-signing-secret-0123456789abcdefghij',
  PUBLIC_URL: 'https://news.example.test',
  LOG_LEVEL: 'silent',
  QUEUE_PREFIX: `bench-websub-${process.pid}`,
  OUTBOUND_ALLOW_PRIVATE: 'true',
});
const ctx = await createContext(config, { logger: pino({ level: 'silent' }), databaseSchema: schema });
const server = buildApp(ctx).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const call = apiCaller(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

const slug = `bench-${process.pid}`;
const room = await call('POST', '/api/newsrooms', ADMIN, { slug, languages: ['fi'], name: { fi: 'Länsi-Esimerkki' } });
const { token } = await call('POST', `/api/newsrooms/${slug}/tokens`, ADMIN, { name: 'bench' });
const topic = `${config.publicUrl}/${slug}/fi/rss.xml`;
// Verified subscriptions, as verification of intent leaves them (it is not what is measured).
const now = new Date();
await ctx.db
  .insertInto('websub_subscriptions')
  .values(
    Array.from({ length: SUBSCRIBERS }, (_, i) => ({
      id: randomUUID(), topic, callback: `${callbackBase}/cb/${i}`, newsroom_id: room.id, lang: 'fi', keyword: null,
      secret: `secret-${i}`, lease_seconds: 86400, expires_at: new Date(now.getTime() + 86_400_000).toISOString(),
      created_at: now.toISOString(), failures: 0,
    })),
  )
  .execute();

const workers = [await startAggregatorWorker(ctx), await startPublicationWorker(ctx)];
const release = await call('POST', `/api/newsrooms/${slug}/releases`, token, {
  translations: { fi: { title: 'Uusi kirjasto avataan', lead: 'Kaupunki avaa uuden kirjaston.', body: 'Kappale **lihavoitu**.\n\n'.repeat(15) } },
});
const publishAt = Date.now() + 3000;
await call('POST', `/api/releases/${release.id}/schedule`, token, { publishAt: new Date(publishAt).toISOString() });
const deadline = publishAt + 60_000;
while (arrivals.length < SUBSCRIBERS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
const service = { first: Math.min(...arrivals) - publishAt, last: Math.max(...arrivals) - publishAt, count: arrivals.length };

// Baseline: the same feed body POSTed straight to the same callbacks, 32 at a time.
const body = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/${slug}/fi/rss.xml`)).text();
arrivals.length = 0;
const limit = pLimit(32);
const start = Date.now();
await Promise.all(
  Array.from({ length: SUBSCRIBERS }, (_, i) =>
    limit(() => outboundRequest(`${callbackBase}/cb/${i}`, true, { method: 'POST', headers: { 'content-type': 'application/rss+xml' }, body })),
  ),
);
const bare = { first: Math.min(...arrivals) - start, last: Math.max(...arrivals) - start };

console.log(`subscribers: ${SUBSCRIBERS} (delivered ${service.count}); database: ${ctx.store.dialect}`);
console.log(`first subscriber had the feed ${service.first} ms after the publication time (goal: under 200 ms)`);
console.log(`last subscriber: ${service.last} ms; bare POSTs of the same body: ${bare.last} ms; ratio ${(service.last / Math.max(1, bare.last)).toFixed(1)}x`);

for (const w of workers) await w.close();
await ctx.aggregators.queue.obliterate({ force: true }).catch(() => undefined);
await ctx.publication.queue.obliterate({ force: true }).catch(() => undefined);
await ctx.deliveries.queue.obliterate({ force: true }).catch(() => undefined);
server.close();
callbacks.close();
callbacks.closeAllConnections();
await dropSchema(ctx.store);
await closeContext(ctx);
rmSync(dir, { recursive: true, force: true });
