/*
 * Idle RSS of each role: starts the compiled service (`dist/main.js`, build it first) as
 * `--role=worker`, `--role=web` and `--role=all`, each on a new SQLite file and the Redis
 * of REDIS_URL (default 127.0.0.1:6379), waits until it has started (the web server
 * listening, the workers started) and 3 s more, and reads
 * VmRSS and VmHWM from /proc (Linux). Node's default heap settings: no flags.
 *
 *   npm run build && node --import tsx bench/role-rss.ts [--dist dist] [--runs 3]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const DIST = arg('dist', 'dist');
const RUNS = Number(arg('runs', '3'));
const SETTLE_MS = 3000;

const kb = (status: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;

async function idleRss(role: string): Promise<{ rss: number; hwm: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-role-rss-'));
  const child = spawn(process.execPath, [path.join(DIST, 'main.js'), `--role=${role}`], {
    env: {
      PATH: process.env.PATH,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      DATABASE_URL: `sqlite:${path.join(dir, 'newsroom.db')}`,
      STORAGE_DIR: path.join(dir, 'files'),
      OUTBOX_DIR: path.join(dir, 'outbox'),
      QUEUE_PREFIX: `role-rss-${process.pid}`,
      ADMIN_TOKEN: 'role-rss-admin-token-0123456789abcdef',
      SIGNING_SECRET: 'role-rss-signing-secret-0123456789abcdefghij',
      PUBLIC_URL: 'http://localhost:3000',
      PORT: '0',
      HEALTH_PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  try {
    const started = role === 'web' ? /newsroom listening/ : /publication worker started/;
    while (!started.test(output)) {
      if (child.exitCode !== null) throw new Error(`--role=${role} stopped:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return { rss: kb(status, 'VmRSS'), hwm: kb(status, 'VmHWM') };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Record<string, { 'VmRSS MB (runs)': string; 'VmHWM MB (max)': string }> = {};
for (const role of ['worker', 'web', 'all']) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await idleRss(role));
  rows[`--role=${role}`] = {
    'VmRSS MB (runs)': runs.map((r) => r.rss.toFixed(1)).join(' / '),
    'VmHWM MB (max)': Math.max(...runs.map((r) => r.hwm)).toFixed(1),
  };
}
console.log(`${DIST}/main.js, idle ${SETTLE_MS / 1000} s after start, Node ${process.version}, default heap settings`);
console.table(rows);
