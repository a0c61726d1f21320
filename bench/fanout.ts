/*
 * Email fan-out at publication against two bare nodemailer pools measured in the same run:
 * one composing each message (what the service did before it built messages once), one
 * sending ready raw bytes (the floor: what the service now hands its pool). `--runs` releases
 * go out one after the other to the whole audience; the first message's latency after
 * publishAt is given as the median and the worst of them.
 *
 *   npm run bench:fanout -- --subscribers 20000 --runs 5
 *   npm run bench:fanout -- --subscribers 20000 --runs 5 --dkim   # the worker and the raw baseline DKIM-sign (RSA 2048)
 *   npm run bench:fanout -- --subscribers 100000
 *   npm run bench:fanout -- --subscribers 50000 --newsrooms 2 --runs 3   # two newsrooms' releases at the same time
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:fanout -- --subscribers 10000
 *   npm run bench:fanout -- --subscribers 10000 --worker-heap-mb 128   # the worker with --max-old-space-size
 *   npm run bench:fanout -- --subscribers 20000 --runs 1 --profile /tmp/prof   # the worker's CPU profile and log
 *
 * The web side runs in this process; the worker is a real process (`dist/main.js
 * --role=worker`, built first), whose peak RSS (VmHWM) is reported. It sends over SMTP to an
 * smtp-server sink in this process on loopback. The baselines are bare nodemailer pools of
 * the same size in processes of their own (bench/bare-pool.ts), as the worker is, sending
 * the same message to the same sink.
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { subscriberLinks } from '../src/subscriptions/links.js';
import { composeTemplate, messageFor } from '../src/delivery/message.js';
import { personalise, renderReleaseEmail } from '../src/delivery/render.js';
import { loadConfig } from '../src/lib/config.js';
import { dropSchema } from '../src/lib/db/database.js';
import { findNewsroomById } from '../src/newsrooms/repository.js';
import { getPublicRelease } from '../src/releases/public.js';
import { closeContext, createContext } from '../src/runtime.js';
import { startSmtpSink } from '../tests/support/smtp.js';
import { apiCaller } from './support.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SUBSCRIBERS = arg('subscribers', 10_000);
const POOL = arg('pool', 5);
const BARE_MESSAGES = Math.min(SUBSCRIBERS, arg('bare', 20_000));
const RUNS = arg('runs', 5);
const DKIM = process.argv.includes('--dkim');
const dkimKey = DKIM ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() : undefined;
// V8 grows its heap lazily up to a limit sized from the machine's memory (or the container's).
const WORKER_HEAP_MB = arg('worker-heap-mb', 0);
// Where the time goes: the worker's CPU profile (.cpuprofile, for Chrome's DevTools) and its log, in this folder.
const PROFILE_DIR = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;
const ADMIN = 'bench-admin-token-0123456789abcdef';
const SECRET = 'bench-signing-secret-0123456789abcdefghij';

if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
const sink = await startSmtpSink({ parse: false });
const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-fanout-'));
const schema = `bench_fanout_${process.pid}`;
const databaseUrl = process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, 'bench.db')}`;
const env = {
  DATABASE_URL: databaseUrl,
  STORAGE_DIR: path.join(dir, 'files'),
  ADMIN_TOKEN: ADMIN,
  SIGNING_SECRET: SECRET,
  SMTP_URL: sink.url,
  SMTP_POOL_SIZE: String(POOL),
  PUBLIC_URL: 'https://news.example.test',
  LOG_LEVEL: 'silent',
  QUEUE_PREFIX: `bench-fanout-${process.pid}`,
  ...(dkimKey ? { DKIM_PRIVATE_KEY: dkimKey.replace(/\n/g, '\\n'), DKIM_SELECTOR: 'bench', DKIM_DOMAIN: 'news.example.test' } : {}),
};
const config = loadConfig(env);
const ctx = await createContext(config, { logger: pino({ level: 'silent' }), databaseSchema: schema });
const server = buildApp(ctx).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const call = apiCaller(base);

const NEWSROOMS = arg('newsrooms', 1);
/** One newsroom per index, each with its releases (one per run) and its audience, at addresses of a domain of its own. */
const rooms: { slug: string; token: string; releases: { id: string }[]; domain: string }[] = [];
const importStart = Date.now();
for (let k = 0; k < NEWSROOMS; k++) {
  const slug = `bench-${process.pid}-${k}`;
  await call('POST', '/api/newsrooms', ADMIN, {
    slug,
    languages: ['fi', 'sv'],
    name: { fi: 'Länsi-Esimerkki', sv: 'Västra Exempel' },
    boilerplate: { fi: 'Länsi-Esimerkki on kaupunki.', sv: 'Västra Exempel är en stad.' },
  });
  const { token } = await call('POST', `/api/newsrooms/${slug}/tokens`, ADMIN, { name: 'bench' });
  const contact = await call('POST', `/api/newsrooms/${slug}/contacts`, token, { name: 'Maija', title: { fi: 'johtaja', sv: 'direktör' }, email: 'maija@example.org' });
  const releases = [];
  for (let run = 0; run < RUNS; run++) {
    releases.push(
      await call('POST', `/api/newsrooms/${slug}/releases`, token, {
        translations: {
          fi: { title: `Uusi kirjasto avataan ${run + 1}`, lead: 'Kaupunki avaa uuden kirjaston.', body: 'Kappale **lihavoitu** ja [linkki](https://example.org).\n\n'.repeat(15) },
          sv: { title: `Nytt bibliotek öppnas ${run + 1}`, lead: 'Staden öppnar ett nytt bibliotek.', body: 'Stycke **fet** och [länk](https://example.org).\n\n'.repeat(15) },
        },
        keywords: { fi: ['kirjasto'], sv: ['bibliotek'] },
        contactIds: [contact.id],
      }),
    );
  }
  const domain = `n${k}.bench.example`;
  rooms.push({ slug, token, releases, domain });

  // Subscribers straight into the table, as an import leaves them (fi/sv mix).
  const newsroomId = (await ctx.db.selectFrom('newsrooms').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()).id;
  const now = new Date().toISOString();
  for (let i = 0; i < SUBSCRIBERS; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, SUBSCRIBERS - i) }, (_, j) => {
      const email = `reader${i + j}@${domain}`;
      return {
        id: randomUUID(), newsroom_id: newsroomId, email, email_key: email,
        languages: JSON.stringify((i + j) % 3 === 0 ? ['sv'] : ['fi']), keywords: '[]', status: 'confirmed',
        consent_at: now, consent_ip: null, consent_user_agent: null, consent_text: 'bench', consent_source: 'bench',
        created_at: now, updated_at: now, confirmed_at: now, unsubscribed_at: null,
      };
    });
    await ctx.db.insertInto('subscribers').values(rows).execute();
  }
}
const AUDIENCE = SUBSCRIBERS * NEWSROOMS;
const release = rooms[0]!.releases[0]!;
const slug = rooms[0]!.slug;
console.log(`imported ${SUBSCRIBERS} subscribers in each of ${NEWSROOMS} newsroom(s) in ${((Date.now() - importStart) / 1000).toFixed(1)} s`);

// The worker as its own process, compiled as in production (tsx would add its compiler to the RSS).
execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
const childDatabaseUrl = databaseUrl.startsWith('sqlite:') ? databaseUrl : `${databaseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
const heapFlags = WORKER_HEAP_MB ? [`--max-old-space-size=${WORKER_HEAP_MB}`] : [];
const profileFlags = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE_DIR)}`] : [];
// Any other node flags for the worker, e.g. --worker-flags '--max-semi-space-size=8'.
const extraFlags = process.argv.includes('--worker-flags') ? process.argv[process.argv.indexOf('--worker-flags') + 1]!.split(' ').filter(Boolean) : [];
// Environment variables for the worker, e.g. --worker-env MALLOC_ARENA_MAX=2.
const extraEnv = process.argv.includes('--worker-env') ? Object.fromEntries([process.argv[process.argv.indexOf('--worker-env') + 1]!.split('=')]) : {};
const worker = spawn(process.execPath, [...heapFlags, ...profileFlags, ...extraFlags, 'dist/main.js', '--role=worker'], {
  env: { PATH: process.env.PATH, ...extraEnv, ...env, DATABASE_URL: childDatabaseUrl, LOG_LEVEL: 'info', PORT: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
worker.stdout!.on('data', (d) => (output += d));
if (PROFILE_DIR) worker.stdout!.pipe(createWriteStream(path.join(PROFILE_DIR, 'worker.log')));
while (!/publication worker started/.test(output)) {
  if (worker.exitCode !== null) throw new Error(`worker stopped:\n${output}`);
  await new Promise((r) => setTimeout(r, 100));
}
const peakRss = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const rssBefore = peakRss();

// One run after the other, each a release of every newsroom at the same time, to the whole
// audience: each run's first message (the later of the newsrooms' firsts) and rate.
const runs: { first: number; last: number; rate: number }[] = [];
for (let run = 0; run < RUNS; run++) {
  const before = sink.count;
  sink.firstAt = undefined;
  sink.firstAtByDomain.clear();
  const publishAt = Date.now() + 3000;
  for (const room of rooms) {
    await call('POST', `/api/releases/${room.releases[run]!.id}/schedule`, room.token, { publishAt: new Date(publishAt).toISOString() });
  }
  while (sink.count - before < AUDIENCE) {
    if (Date.now() - publishAt > 60 * 60_000) throw new Error(`only ${sink.count - before} of ${AUDIENCE} arrived`);
    await new Promise((res) => setTimeout(res, 50));
  }
  const firsts = rooms.map((room) => (sink.firstAtByDomain.get(room.domain)! - publishAt) / 1000);
  runs.push({ first: Math.max(...firsts), last: (sink.lastAt! - publishAt) / 1000, rate: AUDIENCE / ((sink.lastAt! - sink.firstAt!) / 1000 || 1) });
  const each = NEWSROOMS > 1 ? ` (newsrooms: ${firsts.map((f) => f.toFixed(3)).join(', ')} s)` : '';
  console.log(`run ${runs.length}: first message ${runs.at(-1)!.first.toFixed(3)} s after publishAt${each}, ${runs.at(-1)!.rate.toFixed(0)} messages/s`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const firsts = runs.map((r) => r.first);
const serviceRate = median(runs.map((r) => r.rate));
const servicePeak = peakRss();
worker.kill('SIGTERM');
await new Promise((r) => worker.once('exit', r));

// The baselines: the same message, the same sink, the same pool size, nothing else.
const publicRelease = await getPublicRelease(ctx, release.id);
const newsroom = (await findNewsroomById(ctx.db, publicRelease.newsroomId))!;
const rendered = await renderReleaseEmail(ctx, publicRelease, newsroom, 'fi');
const email = personalise(rendered, subscriberLinks(ctx, randomUUID()));
const bareHeaders = { fromName: 'Länsi-Esimerkki', fromAddress: config.mailFrom, host: 'news.example.test', listId: { url: `${slug}.news.example.test`, comment: 'Länsi-Esimerkki' } };

/** A bare pool in its own process (bench/bare-pool.ts), as the worker is: the sink here has this process to itself. */
async function bareRate(mode: 'composed' | 'raw' | 'connections', message: string, signed = false): Promise<number> {
  const dkim = signed && dkimKey ? { domainName: 'news.example.test', keySelector: 'bench', privateKey: dkimKey } : undefined;
  const settings = { sinkUrl: sink.url, pool: POOL, count: BARE_MESSAGES, mode, message, from: config.mailFrom, ...(dkim ? { dkim } : {}) };
  // Asynchronously: the sink answering it lives in this process.
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-pool.ts', JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bare pool (${mode}) stopped with ${String(code)}`);
  return (JSON.parse(out) as { rate: number }).rate;
}
const composedFile = path.join(dir, 'composed.json');
writeFileSync(
  composedFile,
  JSON.stringify({
    from: { name: 'Länsi-Esimerkki', address: config.mailFrom },
    subject: email.subject,
    html: email.html,
    text: email.text,
    list: { id: { url: `${slug}.news.example.test`, comment: 'Länsi-Esimerkki' }, unsubscribe: { url: 'https://news.example.test/unsubscribe/x' } },
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  }),
);
const composedRate = await bareRate('composed', composedFile);
// One message built beforehand, the same bytes to every address: no work per message but SMTP.
const readyFile = path.join(dir, 'ready.eml');
writeFileSync(readyFile, messageFor(await composeTemplate(rendered, bareHeaders), { address: 'bare@bench.example', messageIdLocal: randomUUID(), date: new Date(), links: subscriberLinks(ctx, randomUUID()) }));
const rawRate = await bareRate('raw', readyFile);
// The service's own SMTP pool alone, the same bytes: what it gains over nodemailer's pool before any database work.
const connectionsRate = await bareRate('connections', readyFile);
// What signing costs: the same ready bytes, DKIM-signed per message.
const signedRate = DKIM ? await bareRate('raw', readyFile, true) : undefined;

console.log(`\nsubscribers ${SUBSCRIBERS}${NEWSROOMS > 1 ? ` in each of ${NEWSROOMS} newsrooms, their releases at the same time` : ''}, SMTP pool ${POOL}, database ${databaseUrl.split(':')[0]}, worker heap limit ${WORKER_HEAP_MB ? `${WORKER_HEAP_MB} MB` : "Node's default"}${extraFlags.length ? `, worker flags ${extraFlags.join(' ')}` : ''}, DKIM ${DKIM ? 'on (service and the signed baseline)' : 'off'}`);
console.table({
  [`first message after publishAt${NEWSROOMS > 1 ? ' (the later newsroom)' : ''}, median of ${runs.length} (s)`]: median(firsts).toFixed(3),
  [`first message after publishAt${NEWSROOMS > 1 ? ' (the later newsroom)' : ''}, worst of ${runs.length} (s)`]: Math.max(...firsts).toFixed(3),
  [`last message after publishAt, median of ${runs.length} (s)`]: median(runs.map((r) => r.last)).toFixed(2),
  [`service messages/s (median of ${runs.length})`]: serviceRate.toFixed(0),
  [`bare pool composing each message, messages/s (${BARE_MESSAGES})`]: composedRate.toFixed(0),
  [`bare pool sending ready raw bytes, messages/s (${BARE_MESSAGES})`]: rawRate.toFixed(0),
  [`the service's SMTP pool alone sending ready raw bytes, messages/s (${BARE_MESSAGES})`]: connectionsRate.toFixed(0),
  ...(signedRate ? { [`bare pool sending ready raw bytes DKIM-signed, messages/s (${BARE_MESSAGES})`]: signedRate.toFixed(0), 'DKIM-signed / unsigned raw': (signedRate / rawRate).toFixed(2) } : {}),
  'service / bare composing': (serviceRate / composedRate).toFixed(2),
  'service / bare raw': (serviceRate / rawRate).toFixed(2),
  'worker peak RSS (MB)': servicePeak.toFixed(0),
  'worker RSS when idle before publication (MB)': rssBefore.toFixed(0),
});

server.close();
await ctx.deliveries.queue.obliterate({ force: true }).catch(() => undefined);
await ctx.publication.queue.obliterate({ force: true }).catch(() => undefined);
await ctx.deliveries.redis.del(`${config.queuePrefix}:delivery:data-marker`).catch(() => undefined);
await dropSchema(ctx.store);
await closeContext(ctx);
await sink.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
