import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { pino } from 'pino';
import supertest from 'supertest';
import { buildApp } from '../../src/app.js';
import type { AppContext } from '../../src/context.js';
import { loadConfig } from '../../src/lib/config.js';
import { dropSchema } from '../../src/lib/db/database.js';
import { closeContext, createContext } from '../../src/runtime.js';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** The request with its body read as text, whatever the content type (feeds, sitemaps, vCards). */
export const asText = (request: supertest.Test) =>
  request.buffer(true).parse((res, done) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => done(null, text));
  });

/** A clock the test can move forward; it starts at the real time. */
export class TestClock {
  private offset = 0;
  now = () => new Date(Date.now() + this.offset);
  advance(ms: number) {
    this.offset += ms;
  }
}

export interface TestApp {
  ctx: AppContext;
  app: Express;
  http: supertest.Agent;
  clock: TestClock;
  admin: { Authorization: string };
  close(): Promise<void>;
}

/**
 * The files of one test app in the S3 test server's bucket (the s3 project), under a
 * prefix of their own; none when the suite runs on STORAGE_DIR.
 */
export function testBucketEnv(): Record<string, string> {
  if (process.env.TEST_STORAGE !== 's3') return {};
  return {
    STORAGE_URL: `s3://${process.env.TEST_S3_BUCKET}/test-${randomBytes(6).toString('hex')}`,
    AWS_ENDPOINT_URL_S3: process.env.TEST_S3_ENDPOINT!,
  };
}

/**
 * The real app on a real database of its own: a fresh SQLite file, or (when the
 * suite runs as the postgres or s3 project) a fresh schema in PostgreSQL. Real Redis,
 * under a key prefix of its own. Files in a folder of its own, or (s3 project) under a
 * prefix of their own in the S3 test server's bucket.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-test-'));
  const usePostgres = process.env.TEST_DATABASE === 'postgres';
  const schema = `test_${randomBytes(6).toString('hex')}`;

  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    PUBLIC_URL: 'https://news.example.test',
    DATABASE_URL: usePostgres ? POSTGRES_URL : `sqlite:${path.join(dir, 'newsroom.db')}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    ADMIN_TOKEN,
    STORAGE_DIR: path.join(dir, 'files'),
    OUTBOX_DIR: path.join(dir, 'outbox'),
    LOG_LEVEL: 'silent',
    QUEUE_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    ...testBucketEnv(),
    ...env,
  });
  const clock = new TestClock();
  const ctx = await createContext(config, {
    clock,
    logger: pino({ level: 'silent' }),
    databaseSchema: usePostgres ? schema : undefined,
  });
  const app = buildApp(ctx);
  return {
    ctx,
    app,
    http: supertest.agent(app),
    clock,
    admin: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    async close() {
      await ctx.publication.queue.obliterate({ force: true }).catch(() => undefined);
      await ctx.deliveries.queue.obliterate({ force: true }).catch(() => undefined);
      await ctx.aggregators.queue.obliterate({ force: true }).catch(() => undefined);
      await ctx.deliveries.redis.del(`${ctx.config.queuePrefix}:delivery:data-marker`).catch(() => undefined);
      await dropSchema(ctx.store);
      await closeContext(ctx);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
