import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { minimalPdf } from './support/factories.js';
import { freePort } from './support/ports.js';

/* The service as `npm start` runs it: a real process, its own SQLite file, real Redis. */

const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-process-'));
const queuePrefix = `process-test-${process.pid}`;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  // The processes' queues, left in the shared Redis.
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keys = await redis.keys(`${queuePrefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

function start(env: Record<string, string>, args: string[] = [], options: { uid?: number; script?: string; terminal?: boolean } = {}) {
  const command = [process.execPath, '--import', 'tsx', options.script ?? 'src/main.ts', ...args];
  // `script` runs the command on a pseudo-terminal, as a person starting it by hand would.
  const [file, ...argv] = options.terminal ? ['script', '-qfec', command.join(' '), '/dev/null'] : command;
  const child = spawn(file!, argv, {
    uid: options.uid,
    gid: options.uid,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: `sqlite:${path.join(dir, 'newsroom.db')}`,
      STORAGE_DIR: path.join(dir, 'files'),
      LOG_LEVEL: 'info',
      QUEUE_PREFIX: queuePrefix,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Starting a process compiles TypeScript (tsx): slow on a busy CI machine. */
const PROCESS_TEST_MS = 120_000;

/** Secrets good enough for production, so that a test's process makes no files of its own. */
const secrets = {
  ADMIN_TOKEN: 'process-admin-token-0123456789abcdef',
  SIGNING_SECRET: 'process-signing-secret-0123456789abcdef',
};

/** A folder of its own for one test (readable by the unprivileged user some tests run as). */
function freshDir(name: string): string {
  const home = path.join(dir, name);
  mkdirSync(home, { mode: 0o755 });
  chmodSync(dir, 0o755);
  return home;
}

/** Database and files inside `home`: a data folder of their own. */
const inside = (home: string) => ({
  DATABASE_URL: `sqlite:${path.join(home, 'newsroom.db')}`,
  STORAGE_DIR: path.join(home, 'files'),
  OUTBOX_DIR: path.join(home, 'outbox'),
});


function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

/** Waits for a line of the service's output; fails with all of it if the process ends first. */
async function waitFor(run: ReturnType<typeof start>, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(run.output());
    if (match) return match;
    if (run.child.exitCode !== null || Date.now() > end) {
      throw new Error(`no ${pattern} in the output of the service:\n${run.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the service process', () => {
  it('stops at start with a message naming a bad variable', async () => {
    const run = start({ PORT: 'eighty', REDIS_URL: 'mysql://nope' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/PORT:/);
    expect(run.output()).toMatch(/REDIS_URL: has the scheme "mysql:"; it must be redis: or rediss:/);
  }, PROCESS_TEST_MS);

  it('stops at start on an unknown command-line argument', async () => {
    const run = start({ PORT: '0' }, ['--rol=web']);
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/Unknown command-line argument "--rol=web"/);
    expect(run.output()).not.toMatch(/listening/);
  }, PROCESS_TEST_MS);

  it('says which port is taken, and exits non-zero', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const run = start({ PORT: String(port), ...secrets }, ['--role=web']);
      expect(await run.exited).toBe(1);
      expect(run.output()).toMatch(new RegExp(`PORT: port ${port} is already in use`));
      expect(run.output()).not.toMatch(/TypeError/);
    } finally {
      taken.close();
    }
  }, PROCESS_TEST_MS);

  it('requires PUBLIC_URL in production', async () => {
    const run = start({ NODE_ENV: 'production', ...secrets });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/PUBLIC_URL: required when NODE_ENV=production/);
  }, PROCESS_TEST_MS);

  it('reads secrets from files named by *_FILE, and refuses a variable given both ways', async () => {
    const home = freshDir('file-secrets');
    writeFileSync(path.join(home, 'admin'), `${secrets.ADMIN_TOKEN}\n`);
    writeFileSync(path.join(home, 'signing'), secrets.SIGNING_SECRET);
    const production = {
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://news.example.org',
      PORT: '0',
      ...inside(home),
      ADMIN_TOKEN_FILE: path.join(home, 'admin'),
      SIGNING_SECRET_FILE: path.join(home, 'signing'),
    };
    const run = start(production, ['--role=web']);
    const port = (await waitFor(run, /"port":(\d+).*"msg":"newsroom listening"/))[1];
    const list = await fetch(`http://127.0.0.1:${port}/api/newsrooms`, { headers: { Authorization: `Bearer ${secrets.ADMIN_TOKEN}` } });
    expect(list.status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    const both = start({ ...production, ADMIN_TOKEN: secrets.ADMIN_TOKEN });
    expect(await both.exited).toBe(1);
    expect(both.output()).toMatch(/ADMIN_TOKEN: set either ADMIN_TOKEN or ADMIN_TOKEN_FILE, not both/);
    const missing = start({ ...production, SIGNING_SECRET_FILE: path.join(home, 'nothing-here') });
    expect(await missing.exited).toBe(1);
    expect(missing.output()).toMatch(/SIGNING_SECRET_FILE: cannot read .*nothing-here: ENOENT/);
  }, PROCESS_TEST_MS);

  it('says plainly that a PostgreSQL database does not exist', async () => {
    const server = new URL(process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    server.pathname = `/newsroom_missing_${process.pid}`;
    const run = start({ PORT: '0', ...secrets, DATABASE_URL: server.href }, ['--role=web']);
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      new RegExp(`DATABASE_URL: the PostgreSQL database "newsroom_missing_${process.pid}" does not exist on .*Create it first: createdb newsroom_missing_${process.pid}`),
    );
   }, PROCESS_TEST_MS);

  it('refuses a STORAGE_DIR marked by another database, naming it', async () => {
    const home = freshDir('shared-storage');
    const storage = path.join(home, 'files');
    const first = start({ PORT: '0', ...secrets, STORAGE_DIR: storage, DATABASE_URL: `sqlite:${path.join(home, 'one.db')}` }, ['--role=web']);
    await waitFor(first, /newsroom listening/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = start({ PORT: '0', ...secrets, STORAGE_DIR: storage, DATABASE_URL: `sqlite:${path.join(home, 'two.db')}` }, ['--role=web']);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(new RegExp(`STORAGE_DIR: ${storage} holds the files of another database`));
    expect(second.output()).not.toMatch(/listening/);
  }, PROCESS_TEST_MS);

  it('names the data folder and the permission problem when it cannot write there', async () => {
    const home = freshDir('read-only');
    const data = path.join(home, 'data');
    mkdirSync(data);
    chmodSync(data, 0o555);
    // Root may write anywhere: the service then runs as nobody, like uid 1000 on a root-owned bind mount.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const run = start({ PORT: '0', ...secrets, ...inside(data) }, ['--role=web'], { uid });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(new RegExp(`DATABASE_URL: cannot open the SQLite database ${data}/newsroom.db: ${data} is not writable by this user`));
  }, PROCESS_TEST_MS);

  it('stops at start when STORAGE_DIR cannot be written', async () => {
    const notADirectory = path.join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const run = start({ ...secrets, STORAGE_DIR: path.join(notADirectory, 'files') });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/STORAGE_DIR: cannot write files/);
  }, PROCESS_TEST_MS);

  it('runs the web role, makes an admin token once, keeps it for every role, and stops cleanly on SIGTERM', async () => {
    const home = freshDir('kept-token');
    const run = start({ PORT: '0', ...inside(home) }, ['--role=web']);
    const port = (await waitFor(run, /"port":(\d+).*"msg":"newsroom listening"/))[1];
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const [, file, token] = await waitFor(run, /Admin token, made on this first start and kept in (\S+) .*\n\s+(\S+)/);
    expect(file).toBe(path.join(home, 'admin-token'));
    expect(statSync(file!).mode & 0o777).toBe(0o600);
    expect(readFileSync(file!, 'utf8').trim()).toBe(token);
    const list = await fetch(`http://127.0.0.1:${port}/api/newsrooms`, { headers: { Authorization: `Bearer ${token}` } });
    expect(list.status).toBe(200);
    expect(run.output()).not.toMatch(/publication worker started/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/"msg":"stopped"/);

    // The worker role, and the web role again, use the same token and only say where it is.
    const worker = start({ PORT: '1', ...inside(home) }, ['--role=worker']);
    await waitFor(worker, /publication worker started/);
    const again = start({ PORT: '0', ...inside(home) }, ['--role=web']);
    const portAgain = (await waitFor(again, /"port":(\d+).*"msg":"newsroom listening"/))[1];
    for (const later of [worker, again]) {
      expect(later.output()).toContain(`admin token: kept in ${file}`);
      expect(later.output()).not.toContain(token);
    }
    const listAgain = await fetch(`http://127.0.0.1:${portAgain}/api/newsrooms`, { headers: { Authorization: `Bearer ${token}` } });
    expect(listAgain.status).toBe(200);
    for (const later of [worker, again]) later.child.kill('SIGTERM');
    expect(await Promise.all([worker.exited, again.exited])).toEqual([0, 0]);
  }, PROCESS_TEST_MS);

  it('finishes an upload under way when told to stop, then exits', async () => {
    const admin = 'process-admin-token-0123456789abcdef';
    const run = start({ PORT: '0', ADMIN_TOKEN: admin }, ['--role=web']);
    const port = (await waitFor(run, /"port":(\d+).*"msg":"newsroom listening"/))[1];
    const api = async (path: string, token: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as Record<string, any>;
    };
    await api('/api/newsrooms', admin, { slug: 'stopping', languages: ['fi'], name: { fi: 'X' } });
    const { token } = await api('/api/newsrooms/stopping/tokens', admin, { name: 'desk' });
    const release = await api('/api/newsrooms/stopping/releases', token, { translations: { fi: { title: 'T', body: 'B' } } });

    // Half an upload goes out, the service is told to stop, then the rest follows.
    const boundary = 'xyz';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/api/releases/${release.id}/attachments`,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.write(Buffer.concat([head, minimalPdf.subarray(0, 10)]));
      setTimeout(() => {
        run.child.kill('SIGTERM');
        setTimeout(() => req.end(Buffer.concat([minimalPdf.subarray(10), tail])), 500);
      }, 300);
    });
    const { status, body } = await answer;
    expect([status, JSON.parse(body).sha256]).toEqual([201, expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect(await run.exited).toBe(0);
  }, PROCESS_TEST_MS);

  it('lets two processes start together on a new SQLite file (one migrates, the other waits)', async () => {
    const database = inside(freshDir('together'));
    const runs = [start({ PORT: '0', ...database }, ['--role=web']), start({ PORT: '1', ...database }, ['--role=worker'])];
    await waitFor(runs[0]!, /newsroom listening/);
    await waitFor(runs[1]!, /publication worker started/);
    for (const run of runs) run.child.kill('SIGTERM');
    expect(await Promise.all(runs.map((run) => run.exited))).toEqual([0, 0]);
  }, PROCESS_TEST_MS);

  it('logs readable lines to a terminal, and JSON lines to a pipe', async () => {
    const onTerminal = start({ PORT: '1' }, ['--role=worker'], { terminal: true });
    await waitFor(onTerminal, /INFO.*publication worker started/);
    expect(onTerminal.output()).not.toMatch(/"level":30/);
    onTerminal.child.kill('SIGTERM');
    await onTerminal.exited;
    const onPipe = start({ PORT: '1' }, ['--role=worker']);
    await waitFor(onPipe, /"level":30.*"msg":"publication worker started"/);
    onPipe.child.kill('SIGTERM');
    expect(await onPipe.exited).toBe(0);
  }, PROCESS_TEST_MS);

  it('runs the worker role alone, without an HTTP server', async () => {
    const run = start({ PORT: '1' }, ['--role=worker']);
    await waitFor(run, /publication worker started/);
    expect(run.output()).not.toMatch(/listening/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, PROCESS_TEST_MS);

  it('gives a worker-only process a health endpoint that the health check command asks, without logging probes', async () => {
    const healthPort = await freePort();
    const run = start({ PORT: '1', HEALTH_PORT: String(healthPort) }, ['--role=worker']);
    await waitFor(run, /health endpoint listening/);
    await waitFor(run, /publication worker started/);
    const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok', role: 'worker' }]);
    const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: 'ok', role: 'worker', checks: { database: 'ok', storage: 'ok', redis: 'ok' } },
    ]);
    const probe = start({ HEALTH_PORT: String(healthPort) }, [], { script: 'src/healthcheck.ts' });
    expect(await probe.exited).toBe(0);
    expect(run.output()).not.toMatch(/healthz|request completed/);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const after = start({ HEALTH_PORT: String(healthPort) }, [], { script: 'src/healthcheck.ts' });
    expect(await after.exited).toBe(1);
  }, PROCESS_TEST_MS);

  it('stops quickly when Redis has gone away, without waiting out the grace', async () => {
    const redisPort = await freePort();
    const redis = startRedis(redisPort);
    try {
      const run = start({ PORT: '0', REDIS_URL: `redis://127.0.0.1:${redisPort}`, SHUTDOWN_GRACE_SECONDS: '8' });
      await waitFor(run, /publication worker started/);
      await waitFor(run, /publication jobs rebuilt/);
      const gone = new Promise((resolve) => redis.once('exit', resolve));
      redis.kill('SIGKILL');
      await gone;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const asked = Date.now();
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(Date.now() - asked).toBeLessThan(4000);
      expect(run.output()).not.toMatch(/took longer/);
    } finally {
      redis.kill('SIGKILL');
    }
  }, PROCESS_TEST_MS);
});
