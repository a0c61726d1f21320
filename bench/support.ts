import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Express } from 'express';
import { pino } from 'pino';
import type { AppContext } from '../src/context.js';
import { createWebServer } from '../src/lib/bodies.js';
import { type Config, loadConfig } from '../src/lib/config.js';
import { dropSchema } from '../src/lib/db/database.js';
import { closeContext, createContext } from '../src/runtime.js';

/** The admin token every benchmark's service runs with. */
export const BENCH_ADMIN = 'bench-admin-token-0123456789abcdef';

export interface BenchService {
  dir: string;
  config: Config;
  ctx: AppContext;
  /** Drops what the run made: its queue, its PostgreSQL schema or SQLite file, its folder. */
  close(): Promise<void>;
}

/**
 * The service's context for benchmark `name`, on BENCH_DATABASE_URL (a schema of its own
 * there, so the database is left as found) or a new SQLite file, with silent logs.
 */
export async function benchService(name: string, env: Record<string, string> = {}): Promise<BenchService> {
  const dir = mkdtempSync(path.join(tmpdir(), `newsroom-bench-${name}-`));
  const config = loadConfig({
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(dir, 'bench.db')}`,
    STORAGE_DIR: path.join(dir, 'files'),
    ADMIN_TOKEN: BENCH_ADMIN,
    LOG_LEVEL: 'silent',
    QUEUE_PREFIX: `bench-${name}-${process.pid}`,
    ...env,
  });
  const ctx = await createContext(config, { logger: pino({ level: 'silent' }), databaseSchema: `bench_${name}_${process.pid}` });
  return {
    dir,
    config,
    ctx,
    async close() {
      await ctx.publication.queue.obliterate({ force: true }).catch(() => undefined);
      await dropSchema(ctx.store);
      await closeContext(ctx);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Listens on a free loopback port, as the service does (src/main.ts). */
export async function listenLocally(app: Express): Promise<{ server: Server; origin: string }> {
  const server = createWebServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A JSON client of the service under test: `call(method, path, token, body?)`, throwing on any non-2xx. */
export function apiCaller(origin: string) {
  return async function call(method: string, url: string, token: string, body?: unknown) {
    const res = await fetch(origin + url, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
}

/**
 * autocannon in a process of its own (so that it does not share the server's event
 * loop): its JSON result. Throws when any answer was not 2xx, unless `allowNon2xx`.
 */
export async function autocannon(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string>; allowNon2xx?: boolean },
): Promise<any> {
  const headers = Object.entries(options.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  const args = ['-c', String(options.connections), '-d', String(options.seconds), '-j', ...headers, url];
  const { stdout } = await promisify(execFile)(path.join('node_modules', '.bin', 'autocannon'), args, { maxBuffer: 16 * 1024 * 1024 });
  const result = JSON.parse(stdout);
  if ((result.non2xx > 0 && !options.allowNon2xx) || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} answers were not 2xx, ${result.errors} errors`);
  }
  return result;
}

/** Prints a Markdown table, its columns padded to their widest cell. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}
