/*
 * Issues 9 and 14, "one client must not stall everyone": /healthz latency, and the
 * service's memory, while clients send hostile requests, against an idle baseline
 * measured in the same run.
 *
 *   npm run bench:hostile                      # embedded SQLite
 *   BENCH_SECONDS=10 BENCH_ATTACKERS=6 BENCH_ONLY=gif npm run bench:hostile
 *
 * A probe asks GET /healthz every PROBE_EVERY_MS, one at a time, first with nothing else
 * going on, then in one phase after another while BENCH_ATTACKERS clients each send,
 * in a loop, the requests of that phase (bench/hostile-attacks.ts; the clients run in a
 * worker thread, their memory counted in the process's RSS):
 *
 * - with a token (issue 9 and 14): a gzip of nested brackets (4.9 KB inflating to 5 MB),
 *   a release body of 200 000 characters of `<a>`, a 16383 x 16383 GIF upload, and a
 *   3.5 MB release body of 150 000 keys that are no language code;
 * - anonymous (issue 14): the worst body each public POST takes (at most 16 KB: JSON and
 *   form subscriptions, a confirmation, the staff sign-in), and the 3.3 MB subscription
 *   of 250 000 unknown keys that used to be read;
 * - images (issue 14): the costliest image taken, the largest GIF (decoded whole).
 *
 * Goals: /healthz p99 under 50 ms in the first two phases; the service's peak RSS under
 * 1 GB in the third.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { closeRenderer } from '../src/lib/html.js';
import { hostilePhases, type Phase, startAttack, type Statuses } from './hostile-attacks.js';
import { subscribeTiming } from './subscribe-timing.js';
import { apiCaller, BENCH_ADMIN as ADMIN, benchService, listenLocally } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ATTACKERS = Number(process.env.BENCH_ATTACKERS ?? 4);
const PROBE_EVERY_MS = 20;
const GOAL_P99_MS = 50;
const GOAL_RSS_MB = 1024;
const MB = 1024 * 1024;
const service = await benchService('hostile');
const { config, ctx } = service;
const { server, origin: base } = await listenLocally(buildApp(ctx));

const call = apiCaller(base);

const slug = `bench-${process.pid}`;
await call('POST', '/api/newsrooms', ADMIN, { slug, languages: ['fi'], name: { fi: 'Bench' } });
const { token } = await call('POST', `/api/newsrooms/${slug}/tokens`, ADMIN, { name: 'bench' });
const release = await call('POST', `/api/newsrooms/${slug}/releases`, token, { translations: { fi: { title: 'Kohde' } } });

const target = { base, slug, token, releaseId: release.id };
/** BENCH_ONLY=gif (say) sends only the requests whose name contains it. */
const phases = hostilePhases((process.env.BENCH_ONLY ?? '').toLowerCase());

/** Event-loop delay over each phase: blocking shows here, CPU shared with other processes does not. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

interface Measured {
  latencies: number[];
  loopP99: number;
  peakRss: number;
}

async function probe(seconds: number): Promise<Measured> {
  loopDelay.reset();
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const started = performance.now();
    const res = await fetch(`${base}/healthz`);
    await res.arrayBuffer();
    latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
  }
  clearInterval(sampler);
  return { latencies, loopP99: loopDelay.percentile(99) / 1e6, peakRss };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

await probe(1); // warm-up: JIT, connections, the first render thread
const idle = await probe(SECONDS);
const results: [Phase, Measured][] = [];
const statuses: Statuses = {};
for (const phase of phases) {
  const attack = await startAttack({ target, phase, clients: ATTACKERS });
  results.push([phase, await probe(SECONDS)]);
  Object.assign(statuses, await attack.stop());
}

const mb = (bytes: number) => `${Math.round(bytes / MB)} MB`;
const row = (name: string, m: Measured) => {
  const l = m.latencies;
  return `| ${name.padEnd(14)} | ${String(l.length).padStart(6)} | ${percentile(l, 50).toFixed(1).padStart(6)} | ${percentile(l, 99).toFixed(1).padStart(6)} | ${Math.max(...l).toFixed(1).padStart(7)} | ${(percentile(l, 99) / percentile(idle.latencies, 99)).toFixed(2).padStart(10)} | ${m.loopP99.toFixed(1).padStart(13)} | ${mb(m.peakRss).padStart(13)} |`;
};
console.log(`\nGET /healthz latency (ms) and the service's RSS, ${config.databaseUrl.split(':')[0]}, ${SECONDS} s per phase, ${ATTACKERS} hostile clients\n`);
console.log(`| ${'phase'.padEnd(14)} | probes |    p50 |    p99 |     max | p99 x idle | loop p99 (ms) | peak RSS      |`);
console.log(`|${'-'.repeat(16)}|--------|--------|--------|---------|------------|---------------|---------------|`);
console.log(row('idle', idle));
for (const [phase, measured] of results) console.log(row(phase.name, measured));
console.log(`\nprocess peak RSS (maxRSS, the whole run): ${mb(process.resourceUsage().maxRSS * 1024)}`);
console.log('\nhostile requests sent (status: count)');
for (const [name, counts] of Object.entries(statuses)) {
  console.log(`  ${name.padEnd(46)} ${Object.entries(counts).map(([s, n]) => `${s}: ${n}`).join(', ')}`);
}
console.log('');
let met = true;
for (const [phase, measured] of results) {
  if (phase.goal === 'latency') {
    const p99 = percentile(measured.latencies, 99);
    met &&= p99 < GOAL_P99_MS;
    console.log(`${phase.name}: p99 ${p99.toFixed(1)} ms, ${p99 < GOAL_P99_MS ? 'within' : 'OVER'} the ${GOAL_P99_MS} ms goal`);
  } else {
    const peak = measured.peakRss / MB;
    met &&= peak < GOAL_RSS_MB;
    console.log(`${phase.name}: peak RSS ${peak.toFixed(0)} MB (${(measured.peakRss / idle.peakRss).toFixed(2)} x idle), ${peak < GOAL_RSS_MB ? 'within' : 'OVER'} the ${GOAL_RSS_MB} MB goal`);
  }
}

const asked = await subscribeTiming(ctx, slug);
console.log(`\nan address asked a moment ago: ${asked.toFixed(2)} x the time of one not asked lately (the same work; 1.00 tells nothing)`);

server.closeAllConnections();
server.close();
await closeRenderer();
await service.close();
process.exitCode = met ? 0 : 1;
