/*
 * Public read throughput through the load balancer with one web process and with two,
 * measured in the same run.
 *
 *   npm run bench:fleet
 *   BENCH_DATABASE_URL=postgres://user@db.example.org/newsroom npm run bench:fleet
 *
 * The fleet of tests/fleet.test.ts without its workers: two web processes
 * (`node --import tsx src/main.ts --role=web`, production settings, request logs at
 * `warn`) on PostgreSQL (BENCH_DATABASE_URL, default the test database; a schema of its
 * own, dropped afterwards), their own Redis and S3-compatible server, and two HAProxy
 * instances: one with only web1 behind it, one with both. autocannon (a process of its
 * own) loads a release page and a newsroom page through each for BENCH_SECONDS with
 * BENCH_CONNECTIONS, in BENCH_ROUNDS rounds (3) taking turns, and prints the medians of
 * requests/s, latency and the web processes' CPU time per request, and the ratio two /
 * one (and each round's). On one machine the web processes share its cores with
 * PostgreSQL, HAProxy and autocannon: the ratio says how much a second process adds
 * here, not what a second machine adds; the CPU time per request says whether a
 * request costs the same with two.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../src/lib/db/database.js';
import {
  type Balancer,
  bucketEnv,
  databaseUrlInSchema,
  freePort,
  listening,
  sharedEnv,
  startBalancer,
  startMachine,
  startRedis,
  startS3Server,
  stopProcess,
} from '../tests/support/fleet.js';
import { apiCaller, autocannon, BENCH_ADMIN as ADMIN, printTable } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RELEASES = 30;
/** Linux counts process CPU time in ticks of 1/100 s (USER_HZ). */
const CLOCK_TICKS = 100;
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_fleet_${process.pid}`;
const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-bench-fleet-'));

const store = openStore(databaseUrl);
await sql`create schema ${sql.id(schema)}`.execute(store.db);
const s3 = await startS3Server('newsroom-bench-fleet');
const redis = await startRedis();
const ports = [await freePort(), await freePort()];
const balancerPorts = [await freePort(), await freePort()];
const shared = sharedEnv({
  databaseUrl: databaseUrlInSchema(databaseUrl, schema),
  redisUrl: redis.url,
  bucket: bucketEnv(s3),
  publicUrl: `http://127.0.0.1:${balancerPorts[1]}`,
  adminToken: ADMIN,
  signingSecret: randomBytes(32).toString('hex'),
});
const web = ports.map((port, i) => startMachine(dir, `web${i + 1}`, 'web', shared, { PORT: String(port), LOG_LEVEL: 'warn' }));
const balancers: Balancer[] = [];

try {
  await Promise.all(ports.map((port) => listening(port, 180_000)));
  balancers.push(await startBalancer([{ name: 'web1', port: ports[0]! }], { port: balancerPorts[0] }));
  balancers.push(await startBalancer(ports.map((port, i) => ({ name: `web${i + 1}`, port })), { port: balancerPorts[1] }));
  const [one, two] = balancers.map((b) => b.url) as [string, string];

  // A newsroom with a feed's worth of published releases, written through the balancer.
  const call = apiCaller(two);
  const slug = `bench-${process.pid}`;
  await call('POST', '/api/newsrooms', ADMIN, { slug, languages: ['fi', 'sv'], name: { fi: 'Penkkikaupunki', sv: 'Bänkstad' }, timezone: 'Europe/Helsinki' });
  const { token } = await call('POST', `/api/newsrooms/${slug}/tokens`, ADMIN, { name: 'bench' });
  let release: any;
  for (let n = 0; n < RELEASES; n++) {
    release = await call('POST', `/api/newsrooms/${slug}/releases`, token, {
      translations: {
        fi: { title: `Tiedote ${n}`, lead: 'Ingressi.', body: '## Otsikko\n\nKappale **lihavoitu** ja [linkki](https://example.org).\n\n'.repeat(8) },
        sv: { title: `Meddelande ${n}`, lead: 'Ingress.', body: '## Rubrik\n\nStycke **fet** och [länk](https://example.org).\n\n'.repeat(8) },
      },
    });
    await call('POST', `/api/releases/${release.id}/publish`, token);
  }
  // Both web processes in the second balancer's rotation before measuring.
  for (const b of balancers) {
    for (let i = 0; i < 50; i++) if ((await fetch(`${b.url}/healthz`)).ok) break;
  }
  const cases = [
    { name: 'release page', url: new URL(release.links.web.fi).pathname },
    { name: 'newsroom page', url: `/${slug}/fi` },
  ];

  /** CPU time (user + system) the web processes have used so far, in ms (Linux's /proc; 0 elsewhere). */
  const webCpuMs = () =>
    web.reduce((sum, w) => {
      try {
        const fields = readFileSync(`/proc/${w.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return sum + ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
      } catch {
        return sum;
      }
    }, 0);

  /** autocannon through `url`; with the web processes' CPU time per request. */
  async function load(url: string) {
    const cpuBefore = webCpuMs();
    const result = await autocannon(url, { connections: CONNECTIONS, seconds: SECONDS });
    return {
      perSecond: result.requests.average as number,
      p50: result.latency.p50 as number,
      p99: result.latency.p99 as number,
      cpuMs: (webCpuMs() - cpuBefore) / result.requests.total,
    };
  }

  // Rounds taking turns, so that a burst of other work on the machine falls on both sides; medians.
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
  const rows: string[][] = [];
  for (const c of cases) {
    const runs: { one: Awaited<ReturnType<typeof load>>[]; two: Awaited<ReturnType<typeof load>>[] } = { one: [], two: [] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.one.push(await load(one + c.url));
      runs.two.push(await load(two + c.url));
    }
    const [a, b] = [runs.one, runs.two].map((list) => ({
      perSecond: median(list.map((r) => r.perSecond)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      cpuMs: median(list.map((r) => r.cpuMs)),
    })) as [Awaited<ReturnType<typeof load>>, Awaited<ReturnType<typeof load>>];
    const ratios = runs.two.map((r, i) => (r.perSecond / runs.one[i]!.perSecond).toFixed(2));
    rows.push([
      c.name,
      a.perSecond.toFixed(0),
      `${a.p50}/${a.p99}`,
      a.cpuMs.toFixed(2),
      b.perSecond.toFixed(0),
      `${b.p50}/${b.p99}`,
      b.cpuMs.toFixed(2),
      (b.perSecond / a.perSecond).toFixed(2),
      ratios.join(' '),
    ]);
  }
  const header = ['case', 'one web req/s', 'p50/p99 ms', 'CPU ms/req', 'two web req/s', 'p50/p99 ms', 'CPU ms/req', 'ratio two / one', 'ratio per round'];
  console.log(
    `\nThrough HAProxy, PostgreSQL, ${CONNECTIONS} connections, ${SECONDS} s per case and side, ${ROUNDS} rounds taking turns, medians (autocannon); ` +
      `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at the end\n`,
  );
  printTable(header, rows);
} finally {
  for (const b of balancers) await b.stop();
  await Promise.all(web.map((w) => stopProcess(w)));
  await redis.stop();
  await s3.stop();
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
  await store.destroy();
  rmSync(dir, { recursive: true, force: true });
}
