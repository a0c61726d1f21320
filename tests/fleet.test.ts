import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import supertest from 'supertest';
import { migrate, openStore, type Store } from '../src/lib/db/database.js';
import { PER_IP_PER_HOUR } from '../src/subscriptions/operations.js';
import { POSTGRES_URL } from './support/app.js';
import { minimalPdf } from './support/factories.js';
import {
  type Balancer,
  bucketEnv,
  databaseUrlInSchema,
  freePort,
  type RunningProcess,
  sharedEnv,
  startBalancer,
  startMachine,
  startRedis,
  startS3Server,
  stopProcess,
  waitForOutput,
  webPort,
} from './support/fleet.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { StaffClient } from './support/staff.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';

/*
 * The fleet as processes on this machine, as it runs on several: two web processes
 * behind HAProxy (health checks on /healthz, TRUST_PROXY=loopback), two workers, their
 * own Redis, an S3-compatible server for the files, PostgreSQL, and an SMTP sink per
 * worker (so that the test sees which worker sent what). Every process starts at once on
 * a new, empty schema: the migrations race as they would on a deployment. PostgreSQL
 * only (the database of a fleet); jest.config.js leaves it out of the other projects.
 */

const SUBSCRIBERS = 2000;
const ADMIN_TOKEN = `fleet-admin-${randomBytes(16).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-fleet-'));
const schema = `fleet_${randomBytes(5).toString('hex')}`;

let store: Store;
let stopS3: () => Promise<void>;
let stopRedis: () => Promise<void>;
let sinks: SmtpSink[];
let balancer: Balancer;
const web: { run: RunningProcess; url: string }[] = [];
const workers: RunningProcess[] = [];
const processes: RunningProcess[] = [];
/** Each web process's clock offset from the database's, and its error bound, as it logged them. */
const webClocks: string[] = [];

/** A request's answer: status, headers and body as text. */
interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: () => any;
}

async function call(base: string, method: string, url: string, options: { token?: string; body?: unknown; form?: FormData } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + url, {
    method,
    headers,
    body: options.form ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const pathOf = (url: string) => new URL(url).pathname;

/** What the two sinks (one per worker) got for `readers`, counting nobody else's mail. */
function tally(readers: { email: string }[]) {
  const perWorker = sinks.map((sink) => readers.reduce((n, r) => n + (sink.perRecipient.get(r.email.toLowerCase()) ?? 0), 0));
  const times = readers.map((r) => sinks.reduce((n, sink) => n + (sink.perRecipient.get(r.email.toLowerCase()) ?? 0), 0));
  return {
    perWorker,
    missing: times.filter((n) => n === 0).length,
    twice: times.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
  };
}

function resetSinks() {
  for (const sink of sinks) {
    sink.perRecipient.clear();
    sink.count = 0;
  }
}

/** The newsroom, its token and the release the tests share, made in the first test. */
const fixture = {} as { slug: string; token: string; releaseId: string; pageUrl: string; fileUrl: string; fileSha: string; title: string };

beforeAll(async () => {
  const s3 = await startS3Server('newsroom-fleet');
  stopS3 = s3.stop;
  const redis = await startRedis();
  stopRedis = redis.stop;
  sinks = [await startSmtpSink({ parse: false }), await startSmtpSink({ parse: false })];
  store = openStore(POSTGRES_URL, { schema });
  // Only the schema: the processes migrate it themselves, all at once.
  await sql`create schema ${sql.id(schema)}`.execute(store.db);

  const balancerPort = await freePort();
  const shared = sharedEnv({
    databaseUrl: databaseUrlInSchema(POSTGRES_URL, schema),
    redisUrl: redis.url,
    bucket: bucketEnv(s3),
    publicUrl: `http://127.0.0.1:${balancerPort}`,
    adminToken: ADMIN_TOKEN,
    signingSecret: randomBytes(32).toString('hex'),
  });
  const webRuns = ['web1', 'web2'].map((name) => startMachine(dir, name, 'web', shared, { PORT: '0' }));
  // A claim of a killed worker is taken over after DELIVERY_CLAIM_TIMEOUT_S: 300 s by default, 10 s here (the last test).
  workers.push(...sinks.map((sink, i) => startMachine(dir, `worker${i + 1}`, 'worker', shared, { SMTP_URL: sink.url, DELIVERY_CLAIM_TIMEOUT_S: '10' })));
  processes.push(...webRuns, ...workers);
  const ports = await Promise.all(webRuns.map(webPort));
  for (const run of webRuns) {
    const [, offset, error] = (await waitForOutput(run, /"offsetMs":(-?\d+),"errorMs":([\d.]+)[^\n]*clock set to the database time/))!;
    webClocks.push(`offset ${offset} ± ${error}`);
  }
  web.push(...webRuns.map((run, i) => ({ run, url: `http://127.0.0.1:${ports[i]}` })));
  await Promise.all(workers.map((w) => waitForOutput(w, /publication worker started/)));
  balancer = await startBalancer(
    webRuns.map((run, i) => ({ name: run.name, port: ports[i]! })),
    { port: balancerPort },
  );
  // Both servers in rotation before the tests begin.
  const seen = new Set<string>();
  expect(await until(async () => {
    seen.add((await call(balancer.url, 'GET', '/healthz')).headers.get('x-served-by') ?? '');
    return seen.has('web1') && seen.has('web2');
  }, 20_000)).toBe(true);
  await migrate(store); // nothing left to do: for the test's own reads
}, 240_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => stopProcess(p, 'SIGKILL')));
  await balancer?.stop();
  await stopRedis?.();
  await stopS3?.();
  for (const sink of sinks ?? []) await sink.close();
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
  await store.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('the service as a fleet', () => {
  it('serves an upload through one web process from the other at once (the bucket holds it, no disk does)', async () => {
    const [one, two] = [web[0]!.url, web[1]!.url];
    fixture.slug = `fleet-${randomBytes(3).toString('hex')}`;
    await call(balancer.url, 'POST', '/api/newsrooms', {
      token: ADMIN_TOKEN,
      body: { slug: fixture.slug, languages: ['fi', 'sv'], name: { fi: 'Laivasto', sv: 'Flottan' }, timezone: 'Europe/Helsinki' },
    }).then((a) => expect(a.status).toBe(201));
    fixture.token = (await call(balancer.url, 'POST', `/api/newsrooms/${fixture.slug}/tokens`, { token: ADMIN_TOKEN, body: { name: 'desk' } })).json().token;
    fixture.title = 'Laivasto julkaisee';
    const release = await call(one, 'POST', `/api/newsrooms/${fixture.slug}/releases`, {
      token: fixture.token,
      body: { translations: { fi: { title: fixture.title, lead: 'Ingressi.', body: 'Teksti.' }, sv: { title: 'Flottan publicerar', lead: 'Ingress.', body: 'Text.' } } },
    });
    expect(release.status).toBe(201);
    fixture.releaseId = release.json().id;
    fixture.pageUrl = pathOf(release.json().links.web.fi);

    const bytes = Buffer.concat([minimalPdf, randomBytes(300 * 1024)]);
    const form = new FormData();
    form.append('file', new Blob([bytes]), 'plan.pdf');
    const uploaded = await call(one, 'POST', `/api/releases/${fixture.releaseId}/attachments`, { token: fixture.token, form });
    expect(uploaded.status).toBe(201);
    fixture.fileUrl = pathOf(uploaded.json().url);
    fixture.fileSha = sha256(bytes);

    // At once, from the other web process: the same bytes (staff only, under embargo).
    const there = await fetch(two + fixture.fileUrl, { headers: { Authorization: `Bearer ${fixture.token}` } });
    expect(there.status).toBe(200);
    expect(sha256(Buffer.from(await there.arrayBuffer()))).toBe(fixture.fileSha);
    for (const base of [one, two]) expect((await call(base, 'GET', fixture.fileUrl)).status).toBe(404);
    // Neither machine's folder holds the file: uploads pass through it, then live in the bucket.
    const blobs = await store.db.selectFrom('blobs').select('sha256').execute();
    expect(blobs.map((b) => b.sha256)).toContain(fixture.fileSha);
    for (const machine of ['web1', 'web2']) expect(existsSync(path.join(dir, machine, 'files', 'blobs'))).toBe(false);
  }, 60_000);

  it('keeps a staff session and its CSRF token across web processes', async () => {
    const here = new StaffClient(web[0]!.url);
    await here.signIn(fixture.token);
    const there = new StaffClient(web[1]!.url);
    there.cookies = here.cookies; // the same browser, its next request sent to the other machine
    const list = await there.get('/admin/releases');
    expect(list.status).toBe(200);
    expect(list.text).toContain(fixture.title);
    // A form served by one machine is posted to the other: the CSRF token holds there.
    await here.get('/admin/releases');
    there.csrf = here.csrf;
    const signOut = await there.post('/admin/sign-out');
    expect(signOut.status).toBe(303);
    // Signed out on one machine: signed out on every machine.
    const after = await here.get('/admin/releases');
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe('/admin/sign-in');
  }, 60_000);

  it('counts failed sign-ins across both web processes, per client behind the balancer (TRUST_PROXY)', async () => {
    // Two clients with addresses of their own; HAProxy tells the service which is which in X-Forwarded-For.
    const client = (address: string) => new StaffClient(balancer.url, {}, new http.Agent({ localAddress: address }));
    const guesser = client('127.0.0.2');
    await guesser.get('/admin/sign-in');
    const servedBy = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const answer = await guesser.post('/admin/sign-in', { token: `wrong-${i}` });
      expect(answer.status).toBe(401);
      servedBy.add(answer.headers['x-served-by'] ?? '');
    }
    expect(servedBy).toEqual(new Set(['web1', 'web2'])); // half the failures on each machine
    // Locked out through the balancer, whichever machine answers, even with a good token.
    for (let i = 0; i < 2; i++) {
      await guesser.get('/admin/sign-in');
      const locked = await guesser.post('/admin/sign-in', { token: fixture.token });
      expect(locked.status).toBe(429);
    }
    // Another client behind the same balancer is not.
    const colleague = client('127.0.0.3');
    await colleague.get('/admin/sign-in');
    expect((await colleague.post('/admin/sign-in', { token: fixture.token })).status).toBe(303);
  }, 60_000);

  it('holds the subscription form’s per-client limit across both web processes (TRUST_PROXY)', async () => {
    const from = (address: string) => new http.Agent({ localAddress: address });
    const [reader, another] = [from('127.0.0.4'), from('127.0.0.5')];
    const servedBy = new Set<string>();
    /** Whether the request left a confirmation email to send (the answer is 202 either way). */
    const asked = async (agent: http.Agent) => {
      const email = `fleet-${randomBytes(5).toString('hex')}@example.net`;
      const answer = await supertest(balancer.url).post(`/api/newsrooms/${fixture.slug}/subscriptions`).agent(agent).send({ email });
      expect(answer.status).toBe(202);
      servedBy.add(answer.headers['x-served-by'] ?? '');
      const row = await store.db
        .selectFrom('subscription_confirmations')
        .innerJoin('subscribers', 'subscribers.id', 'subscription_confirmations.subscriber_id')
        .select('subscription_confirmations.id')
        .where('subscribers.email_key', '=', email)
        .executeTakeFirst();
      return row !== undefined;
    };
    for (let i = 0; i < PER_IP_PER_HOUR; i++) expect(await asked(reader)).toBe(true);
    expect(servedBy).toEqual(new Set(['web1', 'web2']));
    expect(await asked(reader)).toBe(false);
    expect(await asked(reader)).toBe(false); // on the other machine too
    expect(await asked(another)).toBe(true);
  }, 60_000);

  it('lifts the embargo on both web processes at once; 2000 emails go out over both workers, none missing, none twice', async () => {
    const room = await newsroomId(store.db, fixture.slug);
    const readers = await insertSubscribers(store.db, room, Array.from({ length: SUBSCRIBERS }, (_, i) => ({ languages: [i % 3 ? 'fi' : 'sv'] })));
    const publishAt = Date.now() + 4000;
    const scheduled = await call(balancer.url, 'POST', `/api/releases/${fixture.releaseId}/schedule`, {
      token: fixture.token,
      body: { publishAt: new Date(publishAt).toISOString() },
    });
    expect(scheduled.status).toBe(200);

    // Both machines asked over and over, from before publishAt to after it.
    const samples: { machine: number; url: string; sent: number; answered: number; status: number }[] = [];
    await Promise.all(
      web.flatMap((machine, i) =>
        [fixture.pageUrl, `/api/releases/${fixture.releaseId}`, fixture.fileUrl].map(async (url) => {
          while (Date.now() < publishAt + 1500) {
            const sent = Date.now();
            const { status } = await call(machine.url, 'GET', url);
            samples.push({ machine: i, url, sent, answered: Date.now(), status });
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }),
      ),
    );
    // The processes read the time from the database, whose clock this machine shares, to
    // within the measuring's error (a few ms): the margin is for that.
    const margin = 100;
    const before = samples.filter((s) => s.answered < publishAt - margin);
    const after = samples.filter((s) => s.sent > publishAt + margin);
    for (const machine of [0, 1]) {
      expect(before.filter((s) => s.machine === machine).length).toBeGreaterThan(0);
      expect(after.filter((s) => s.machine === machine).length).toBeGreaterThan(0);
    }
    expect(before.filter((s) => s.status !== 404)).toEqual([]);
    expect(after.filter((s) => s.status !== 200)).toEqual([]);
    const edges = [0, 1].map((m) => {
      const own = samples.filter((s) => s.machine === m);
      const last404 = Math.max(...own.filter((s) => s.status === 404).map((s) => s.answered)) - publishAt;
      const first200 = Math.min(...own.filter((s) => s.status === 200).map((s) => s.answered)) - publishAt;
      return `web${m + 1}: last 404 answered at ${last404} ms, first 200 at +${first200} ms`;
    });
    console.log(`embargo lifted (times from publishAt): ${edges.join('; ')}; the web processes' clocks set to the database's: ${webClocks.join(', ')} ms`);

    // The emails: both workers share them; the delivery report comes through the balancer.
    const delivered = await until(async () => {
      const report = await call(balancer.url, 'GET', `/api/releases/${fixture.releaseId}/deliveries`, { token: fixture.token });
      return report.status === 200 && report.json().sent === SUBSCRIBERS;
    }, 120_000);
    if (!delivered) console.log(workers.map((w) => w.output().slice(-3000)).join('\n----\n'));
    expect(delivered).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // anything sent twice would arrive now
    const { perWorker, missing, twice } = tally(readers);
    console.log(`${SUBSCRIBERS} emails: worker1 sent ${perWorker[0]}, worker2 ${perWorker[1]}; ${missing} missing, ${twice} sent twice`);
    expect(missing).toBe(0);
    expect(twice).toBe(0);
    expect(perWorker[0]).toBeGreaterThan(0);
    expect(perWorker[1]).toBeGreaterThan(0);
    expect(perWorker[0]! + perWorker[1]!).toBe(SUBSCRIBERS);
  }, 180_000);

  it('withdraws: 410 on both web processes at once', async () => {
    const withdrawn = await call(balancer.url, 'POST', `/api/releases/${fixture.releaseId}/withdraw`, { token: fixture.token });
    expect(withdrawn.status).toBe(200);
    // The first request after the answer, on either machine: no cache anywhere still has it public.
    const answers = await Promise.all(
      web.flatMap((machine) => [fixture.pageUrl, `/api/releases/${fixture.releaseId}`, fixture.fileUrl].map((url) => call(machine.url, 'GET', url))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(410));
  }, 30_000);

  it('routes around a web process killed mid-traffic: lost at most the requests in flight when it died', async () => {
    const page = `/${fixture.slug}/fi`;
    const results: { sent: number; answered: number; status: number; servedBy: string }[] = [];
    let stop = false;
    const clients = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const sent = Date.now();
        try {
          const res = await fetch(balancer.url + page);
          await res.arrayBuffer();
          results.push({ sent, answered: Date.now(), status: res.status, servedBy: res.headers.get('x-served-by') ?? '' });
        } catch (error) {
          results.push({ sent, answered: Date.now(), status: 0, servedBy: String((error as Error).cause ?? error) });
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const killedAt = Date.now();
    const victim = web[1]!.run;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const diedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4000));
    stop = true;
    await Promise.all(clients);

    // In flight when web2 died: asked before its end was seen here (a killed process
    // closes its connections as it ends, before its parent hears of it), and not
    // answered before the kill.
    const inFlight = results.filter((r) => r.sent <= diedAt && r.answered >= killedAt);
    const lost = results.filter((r) => r.status !== 200);
    const beforeKill = results.filter((r) => r.answered < killedAt);
    const settled = results.filter((r) => r.sent > killedAt + 2000); // the health checks have taken web2 out
    console.log(
      `web2 killed (its exit seen ${diedAt - killedAt} ms later) with ${inFlight.length} requests in flight: ${results.length} requests, ` +
        `${lost.length} lost (${lost.map((r) => `${r.status} ${r.servedBy} sent ${r.sent - killedAt} ms`).join(', ') || 'none'}); ` +
        `before the kill ${beforeKill.filter((r) => r.servedBy === 'web2').length} served by web2; ` +
        `${settled.length} after the health checks, all by ${[...new Set(settled.map((r) => r.servedBy))].join(', ')}`,
    );
    expect(beforeKill.some((r) => r.servedBy === 'web2')).toBe(true);
    expect(lost.every((r) => inFlight.includes(r))).toBe(true);
    expect(lost.length).toBeLessThanOrEqual(inFlight.length);
    expect(settled.length).toBeGreaterThan(0);
    expect(settled.every((r) => r.status === 200 && r.servedBy === 'web1')).toBe(true);
  }, 60_000);

  it('takes over the sending of a worker killed mid-fan-out: nobody missing, sent twice at most what was in flight', async () => {
    resetSinks();
    const room = await newsroomId(store.db, fixture.slug);
    const readers = await store.db.selectFrom('subscribers').select('email').where('newsroom_id', '=', room).where('status', '=', 'confirmed').execute();
    const release = await call(balancer.url, 'POST', `/api/newsrooms/${fixture.slug}/releases`, {
      token: fixture.token,
      body: { translations: { fi: { title: 'Toinen tiedote', lead: 'Ingressi.', body: 'Teksti.' }, sv: { title: 'Andra', lead: 'Ingress.', body: 'Text.' } } },
    });
    const id = release.json().id;
    const report = async () => (await call(balancer.url, 'GET', `/api/releases/${id}/deliveries`, { token: fixture.token })).json();
    sinks[1]!.delayMs = 5; // a slower server behind worker2, so that the kill finds its sending under way
    expect((await call(balancer.url, 'POST', `/api/releases/${id}/publish`, { token: fixture.token })).status).toBe(200);
    expect(await until(() => sinks[1]!.count >= 100, 60_000)).toBe(true);
    workers[1]!.child.kill('SIGKILL');
    await workers[1]!.exited;
    const atKill = await report();
    sinks[1]!.delayMs = 0;

    // worker1 takes the dead one's claims over after DELIVERY_CLAIM_TIMEOUT_S (10 s here; 300 s by default).
    const done = await until(async () => (await report()).sent === readers.length, 120_000);
    if (!done) console.log(workers[0]!.output().slice(-3000));
    expect(done).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { perWorker, missing, twice } = tally(readers);
    console.log(
      `worker2 killed after sending ${perWorker[1]} (report then: ${atKill.sent} sent, ${atKill.sending} in flight); ` +
        `worker1 sent ${perWorker[0]}; ${missing} missing, ${twice} sent twice`,
    );
    expect(missing).toBe(0);
    expect(twice).toBeLessThanOrEqual(atKill.sending);
  }, 180_000);
});
