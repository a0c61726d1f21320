import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { POSTGRES_URL, startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';

/*
 * Delivery across real worker processes (`node --import tsx src/main.ts --role=worker`)
 * sharing this test's database and Redis prefix: one killed with SIGKILL mid-fan-out and
 * started again, and two sharing one fan-out. The web side runs in this process. The
 * workers run with the default settings: DELIVERY_CLAIM_TIMEOUT_S (300 s) is not what
 * brings a killed worker's claims back, its lapsed liveness is.
 */

const SUBSCRIBERS = 1500;
const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-delivery-process-'));
let t: TestApp;
let sink: SmtpSink;
let newsroom: NewsroomFixture;
let roomId: string;
const children: ChildProcess[] = [];

function databaseUrlForChild(): string {
  if (t.ctx.store.dialect === 'sqlite') return t.ctx.config.databaseUrl;
  return `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${t.ctx.store.schema}`)}`;
}

function startWorker(): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--role=worker'], {
    env: {
      PATH: process.env.PATH,
      PORT: '1',
      PUBLIC_URL: t.ctx.config.publicUrl,
      DATABASE_URL: databaseUrlForChild(),
      REDIS_URL: t.ctx.config.redisUrl,
      QUEUE_PREFIX: t.ctx.config.queuePrefix,
      SMTP_URL: sink.url,
      SIGNING_SECRET: t.ctx.config.signingSecret,
      STORAGE_DIR: path.join(dir, 'files'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  children.push(child);
  return { child, output: () => output };
}

async function started(worker: ReturnType<typeof startWorker>) {
  const up = await until(() => /publication worker started/.test(worker.output()), 120_000);
  if (!up) console.log(worker.output().slice(-3000));
  expect(up).toBe(true);
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/** The log lines of a worker about taking over from another (to show when and why). */
const takeovers = (output: string) =>
  output
    .split('\n')
    .filter((line) => /taking over|queued again|recovered|liveness/.test(line))
    .join('\n');

const countStatus = async (releaseId: string, status: string) =>
  Number(
    (
      await t.ctx.db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('release_id', '=', releaseId)
        .where('status', '=', status)
        .executeTakeFirstOrThrow()
    ).n,
  );

beforeAll(async () => {
  sink = await startSmtpSink({ parse: false });
  t = await startTestApp({ SMTP_URL: sink.url });
}, 60_000);
beforeEach(async () => {
  // Each test its own subscribers (a newsroom of its own) and a fresh count at the sink.
  newsroom = await buildNewsroom(t);
  roomId = await newsroomId(t.ctx.db, newsroom.slug);
  sink.perRecipient.clear();
  sink.count = 0;
});
afterAll(async () => {
  for (const child of children) await stop(child, 'SIGKILL');
  await t.close();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('delivery across worker processes', () => {
  it('loses nobody when a worker is killed (SIGKILL) mid-fan-out and started again: what it had in flight leaves within 15 s of the restart (default claim timeout), duplicates at most those in flight', async () => {
    const readers = await insertSubscribers(t.ctx.db, roomId, Array.from({ length: SUBSCRIBERS }, (_, i) => ({ languages: [i % 2 ? 'fi' : 'sv'] })));
    sink.delayMs = 5; // a slow server, so the kill finds the fan-out under way
    const first = startWorker();
    await started(first);
    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);

    expect(await until(() => sink.count >= 60, 120_000)).toBe(true);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const claims = await t.ctx.db.selectFrom('deliveries').select(['id', 'claimed_by']).where('release_id', '=', release.id).where('status', '=', 'sending').execute();
    const inFlightIds = claims.map((d) => d.id);
    const inFlight = inFlightIds.length;
    const deadOwner = claims[0]?.claimed_by ?? '';
    const sentAtKill = await countStatus(release.id, 'sent');
    const writtenAtKill = (await t.ctx.db.selectFrom('deliveries').select('id').where('release_id', '=', release.id).execute()).length;
    const fanoutDone = Boolean((await t.ctx.db.selectFrom('fanouts').select('done_at').where('release_id', '=', release.id).executeTakeFirst())?.done_at);

    const restartedAt = Date.now();
    const second = startWorker();
    await started(second);
    const upAfter = Date.now() - restartedAt;
    // The killed worker's claims are taken over (queued again) once its liveness lapses.
    const takenOver = await until(
      async () =>
        !(await t.ctx.db.selectFrom('deliveries').select('id').where('release_id', '=', release.id).where('status', '=', 'sending').where('claimed_by', '=', deadOwner).executeTakeFirst()),
      60_000,
    );
    const takenOverAfter = Date.now() - restartedAt;
    const done = await until(async () => (await countStatus(release.id, 'sent')) === SUBSCRIBERS, 400_000);
    if (!done) console.log(first.output().slice(-3000), '\n----\n', second.output().slice(-5000));
    expect(done).toBe(true);
    const lastAfterRestart = sink.lastAt! - restartedAt;
    // The claims the killed worker held: before liveness, they waited for the claim timeout (300 s).
    const inFlightSentAt = inFlightIds.length
      ? await t.ctx.db.selectFrom('deliveries').select((eb) => eb.fn.max('sent_at').as('last')).where('id', 'in', inFlightIds).executeTakeFirstOrThrow()
      : { last: null };
    const inFlightAfterRestart = inFlightSentAt.last === null ? 0 : new Date(inFlightSentAt.last as string).getTime() - restartedAt;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    sink.delayMs = 0;

    const missing = readers.filter((r) => !sink.perRecipient.get(r.email.toLowerCase())).length;
    const duplicates = [...sink.perRecipient.values()].reduce((sum, n) => sum + (n - 1), 0);
    console.log(
      `worker killed mid-fan-out (${writtenAtKill}/${SUBSCRIBERS} deliveries written, fan-out ${fanoutDone ? 'done' : 'under way'}, ` +
        `${sentAtKill} sent, ${inFlight} in flight): after restart ${missing} missing, ${duplicates} sent twice; ` +
        `restarted worker up after ${upAfter} ms, its claims taken over ${takenOverAfter} ms after the restart; the last of those in flight sent ${inFlightAfterRestart} ms after the restart, ` +
        `the last email ${lastAfterRestart} ms after it`,
    );
    console.log(takeovers(second.output()));
    expect(writtenAtKill).toBeLessThan(SUBSCRIBERS * 2); // sanity: the counts are of this release
    expect(sentAtKill).toBeLessThan(SUBSCRIBERS);
    expect(missing).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(inFlight);
    expect(sink.count).toBe(SUBSCRIBERS + duplicates);
    // Default claim timeout (300 s): only the liveness takeover makes this. Counted from the
    // moment the new process is up: starting Node itself takes 20 s and more on a loaded
    // machine, and sending the rest is bound by the machine's speed (printed above).
    expect(inFlight).toBeGreaterThan(0);
    expect(takenOver).toBe(true);
    expect(takenOverAfter - upAfter).toBeLessThanOrEqual(15_000);
    expect(inFlightAfterRestart).toBeLessThan(t.ctx.config.deliveryClaimTimeoutMs);
    await stop(second.child);
  }, 600_000);

  afterEach(async () => {
    // A test that failed leaves its workers running: they must not join the next one.
    for (const child of children) await stop(child);
  });

  it('lets two worker processes share one fan-out without sending anything twice', async () => {
    const readers = await insertSubscribers(t.ctx.db, roomId, Array.from({ length: SUBSCRIBERS }, () => ({ languages: ['fi'] })));
    sink.delayMs = 2;
    const workers = [startWorker(), startWorker()];
    for (const w of workers) await started(w);
    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);

    expect(await until(async () => (await countStatus(release.id, 'sent')) === SUBSCRIBERS, 180_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    sink.delayMs = 0;
    expect(sink.count).toBe(SUBSCRIBERS);
    expect(readers.every((r) => sink.perRecipient.get(r.email.toLowerCase()) === 1)).toBe(true);
    const owners = await t.ctx.db
      .selectFrom('deliveries')
      .select('claimed_by')
      .distinct()
      .where('release_id', '=', release.id)
      .execute();
    console.log(`two workers: ${owners.length} processes sent the ${SUBSCRIBERS} emails`, ...workers.map((w) => takeovers(w.output())));
    expect(owners.length).toBe(2);
    for (const w of workers) await stop(w.child);
  }, 400_000);
});
