/*
 * API throughput against a baseline measured in the same run.
 *
 *   npm run bench                                   # embedded SQLite
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench
 *
 * The baseline is GET /healthz on the same server: the cost of Node, Express, helmet
 * and logging with no work behind it. Each case prints its mean time per request as a
 * multiple of that, so the figures compare across machines.
 */
import { buildApp } from '../src/app.js';
import { apiCaller, BENCH_ADMIN as ADMIN, benchService, listenLocally } from './support.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const RELEASES = 300;

const service = await benchService('api');
const { config, ctx } = service;
const { server, origin: base } = await listenLocally(buildApp(ctx));

const call = apiCaller(base);

const slug = `bench-${process.pid}`;
await call('POST', '/api/newsrooms', ADMIN, { slug, languages: ['fi', 'sv'], name: { fi: 'Bench', sv: 'Bench' } });
const { token } = await call('POST', `/api/newsrooms/${slug}/tokens`, ADMIN, { name: 'bench' });
const contact = await call('POST', `/api/newsrooms/${slug}/contacts`, token, { name: 'Maija', title: { fi: 'johtaja' } });
const body = (n: number) => ({
  translations: {
    fi: { title: `Tiedote ${n}`, lead: 'Ingressi.', body: '## Otsikko\n\nKappale **lihavoitu** ja [linkki](https://example.org).\n\n'.repeat(20) },
    sv: { title: `Meddelande ${n}`, lead: 'Ingress.', body: '## Rubrik\n\nStycke **fet** och [länk](https://example.org).\n\n'.repeat(20) },
  },
  keywords: { fi: ['kirjasto', 'kulttuuri'], sv: ['bibliotek'] },
  contactIds: [contact.id],
});
const ids: string[] = [];
for (let n = 0; n < RELEASES; n++) ids.push((await call('POST', `/api/newsrooms/${slug}/releases`, token, body(n))).id);

async function measure(name: string, request: (i: number) => Promise<unknown>) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) await request(next++);
    }),
  );
  const ms = performance.now() - started;
  return { name, perSecond: REQUESTS / (ms / 1000), meanMs: ms / REQUESTS };
}

const results = [
  await measure('baseline: GET /healthz', () => fetch(`${base}/healthz`).then((r) => r.arrayBuffer())),
  await measure('GET /api/releases/:id', (i) => call('GET', `/api/releases/${ids[i % ids.length]}`, token)),
  await measure('GET /api/newsrooms/:slug/releases (50)', () => call('GET', `/api/newsrooms/${slug}/releases?limit=50`, token)),
  await measure('POST /api/newsrooms/:slug/releases', (i) => call('POST', `/api/newsrooms/${slug}/releases`, token, body(i))),
  await measure('PATCH /api/releases/:id (one language)', (i) =>
    call('PATCH', `/api/releases/${ids[i % ids.length]}`, token, { translations: { fi: { title: `Muokattu ${i}`, body: 'Uusi teksti.' } } }),
  ),
];

const [baseline] = results;
console.log(`\n${config.databaseUrl.split(':')[0]}, ${REQUESTS} requests per case, ${CONCURRENCY} at a time\n`);
console.log('case'.padEnd(44), 'req/s'.padStart(8), 'mean ms'.padStart(9), 'x baseline'.padStart(11));
for (const r of results) {
  console.log(
    r.name.padEnd(44),
    r.perSecond.toFixed(0).padStart(8),
    r.meanMs.toFixed(2).padStart(9),
    (r.meanMs / baseline!.meanMs).toFixed(1).padStart(11),
  );
}

server.close();
await service.close();
