import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/*
 * The service as a fleet of processes on this machine, as on several machines: web
 * processes behind HAProxy (Debian's package), worker processes, their own Redis and an
 * S3-compatible server, sharing PostgreSQL. Each process gets a folder of its own (its
 * "disk"): what they share is only the database, Redis and the bucket. Used by
 * tests/fleet.test.ts and bench/fleet.ts.
 */

const require = createRequire(import.meta.url);
const s3Server = require('../setup/s3-server.cjs') as {
  freePort(): Promise<number>;
  startS3Server(bucket?: string): Promise<{ endpoint: string; bucket: string; stop(): Promise<void> }>;
};
export const { freePort, startS3Server } = s3Server;

/** A child process whose output (the last 200 KB) is kept for waiting on and for failure messages. */
export interface RunningProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

export function spawnLogged(name: string, command: string, args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, child, output: () => output, exited };
}

/** Waits for a line of the process's output; fails with its output if the process ends first or the time is up. */
export async function waitForOutput(run: RunningProcess, pattern: RegExp, timeoutMs = 120_000): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(run.output());
    if (match) return match;
    if (run.child.exitCode !== null || run.child.signalCode !== null || Date.now() > end) {
      throw new Error(`${run.name}: no ${pattern} in its output:\n${run.output().slice(-5000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function stopProcess(run: RunningProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  run.child.kill(signal);
  await run.exited;
}

/** Waits until something listens on the loopback port. */
export async function listening(port: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A redis-server of its own on a free port (never the shared one: nothing else's keys are touched). */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const run = spawnLogged('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    PATH: process.env.PATH ?? '',
  });
  await listening(port);
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopProcess(run) };
}

/** HAProxy from the PATH or where Debian's package puts it; a message saying how to install it otherwise. */
function haproxyBinary(): string {
  for (const candidate of ['haproxy', '/usr/sbin/haproxy']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error('The fleet needs HAProxy as its load balancer: apt-get install -y haproxy (.ci/run installs it when missing).');
}

export interface Balancer {
  url: string;
  port: number;
  run: RunningProcess;
  stop(): Promise<void>;
}

/**
 * HAProxy in front of `servers`: round robin, health checks on GET /healthz (every
 * `checkMs`, down after 2 failures, up after 2 successes), X-Forwarded-For added, a
 * failed connection retried on another server. The answer says which server gave it
 * (X-Served-By), for the tests. `port`: where it listens (free one otherwise).
 */
export async function startBalancer(servers: { name: string; port: number }[], options: { checkMs?: number; port?: number } = {}): Promise<Balancer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    file,
    [
      'global',
      '    maxconn 2000',
      'defaults',
      '    mode http',
      '    timeout connect 1s',
      '    timeout client 30s',
      '    timeout server 30s',
      '    retries 3',
      '    option redispatch 1',
      'frontend public',
      `    bind 127.0.0.1:${port}`,
      '    default_backend web',
      'backend web',
      '    balance roundrobin',
      '    option forwardfor',
      '    option httpchk GET /healthz',
      '    http-check expect status 200',
      '    http-response set-header X-Served-By %[srv_name]',
      `    default-server check inter ${options.checkMs ?? 500}ms fall 2 rise 2`,
      ...servers.map((s) => `    server ${s.name} 127.0.0.1:${s.port}`),
      '',
    ].join('\n'),
  );
  const run = spawnLogged('haproxy', haproxyBinary(), ['-db', '-f', file], { PATH: process.env.PATH ?? '' });
  await listening(port).catch((error: Error) => {
    throw new Error(`${error.message}: haproxy did not start:\n${run.output()}`);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    run,
    async stop() {
      await stopProcess(run);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface FleetSettings {
  /** PostgreSQL, with the schema of this fleet on its search path. */
  databaseUrl: string;
  redisUrl: string;
  /** The bucket's URL and the AWS_* settings of its server. */
  bucket: Record<string, string>;
  publicUrl: string;
  adminToken: string;
  signingSecret: string;
}

/** The DATABASE_URL of a process working in `schema` of the PostgreSQL database at `url`. */
export const databaseUrlInSchema = (url: string, schema: string) => `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;

/** The settings every machine of the fleet must share (see the README's "Running several machines"). */
export function sharedEnv(s: FleetSettings): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PUBLIC_URL: s.publicUrl,
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: s.redisUrl,
    ADMIN_TOKEN: s.adminToken,
    SIGNING_SECRET: s.signingSecret,
    TRUST_PROXY: 'loopback',
    ...s.bucket,
  };
}

/**
 * One machine's process: `node --import tsx src/main.ts --role=ROLE` with the shared
 * settings, a folder of its own under `dir` (STORAGE_DIR for uploads in progress,
 * OUTBOX_DIR) and `env` on top.
 */
export function startMachine(dir: string, name: string, role: 'web' | 'worker', shared: Record<string, string>, env: Record<string, string> = {}): RunningProcess {
  const own = path.join(dir, name);
  mkdirSync(own, { recursive: true });
  return spawnLogged(name, process.execPath, ['--import', 'tsx', 'src/main.ts', `--role=${role}`], {
    PATH: process.env.PATH ?? '',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: 'info',
    STORAGE_DIR: path.join(own, 'files'),
    OUTBOX_DIR: path.join(own, 'outbox'),
    ...shared,
    ...env,
  });
}

/** A web process's port, once it listens. */
export async function webPort(run: RunningProcess): Promise<number> {
  return Number((await waitForOutput(run, /"port":(\d+)[^\n]*"msg":"newsroom listening"/))[1]);
}

/** Credentials for the S3 test server (moto takes any; s3rver knows only its own). */
export function bucketEnv(server: { endpoint: string; bucket: string }, prefix = `fleet-${randomBytes(4).toString('hex')}`): Record<string, string> {
  return {
    STORAGE_URL: `s3://${server.bucket}/${prefix}`,
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}
