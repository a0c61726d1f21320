import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { minimalPdf } from './support/factories.js';

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

function start(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
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

/** Waits for a line of the service's output; fails with all of it if the process ends first. */
async function waitFor(run: ReturnType<typeof start>, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
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
    expect(run.output()).toMatch(/REDIS_URL:/);
  });

  it('stops at start when STORAGE_DIR cannot be written', async () => {
    const notADirectory = path.join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const run = start({ STORAGE_DIR: path.join(notADirectory, 'files') });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/STORAGE_DIR: cannot write files/);
  });

  it('runs the web role, prints a generated admin token once, and stops cleanly on SIGTERM', async () => {
    const run = start({ PORT: '0' }, ['--role=web']);
    const port = (await waitFor(run, /"port":(\d+).*"msg":"newsroom listening"/))[1];
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const token = (await waitFor(run, /Admin token for this run.*\n\s+(\S+)/))[1];
    const list = await fetch(`http://127.0.0.1:${port}/api/newsrooms`, { headers: { Authorization: `Bearer ${token}` } });
    expect(list.status).toBe(200);
    expect(run.output()).not.toMatch(/publication worker started/);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/"msg":"stopped"/);
  }, 60_000);

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
  }, 60_000);

  it('lets two processes start together on a new SQLite file (one migrates, the other waits)', async () => {
    const database = { DATABASE_URL: `sqlite:${path.join(dir, 'together.db')}` };
    const runs = [start({ PORT: '0', ...database }, ['--role=web']), start({ PORT: '1', ...database }, ['--role=worker'])];
    await waitFor(runs[0]!, /newsroom listening/);
    await waitFor(runs[1]!, /publication worker started/);
    for (const run of runs) run.child.kill('SIGTERM');
    expect(await Promise.all(runs.map((run) => run.exited))).toEqual([0, 0]);
  }, 60_000);

  it('runs the worker role alone, without an HTTP server', async () => {
    const run = start({ PORT: '1' }, ['--role=worker']);
    await waitFor(run, /publication worker started/);
    expect(run.output()).not.toMatch(/listening/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 60_000);
});
