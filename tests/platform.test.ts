import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { sql } from 'kysely';
import { pino } from 'pino';
import supertest from 'supertest';
import { buildApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/lib/config.js';
import { startTestApp, type TestApp } from './support/app.js';

describe('configuration', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'newsroom-config-'));
  const here = { STORAGE_DIR: path.join(dataDir, 'files') };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs on its embedded defaults', () => {
    const config = loadConfig(here);
    expect(config).toMatchObject({
      port: 3000,
      publicUrl: 'http://localhost:3000',
      databaseUrl: 'sqlite:./data/newsroom.db',
      redisUrl: 'redis://127.0.0.1:6379',
      smtpUrl: undefined,
      mailFrom: 'newsroom@localhost',
      role: 'all',
      uploadMaxBytes: 50 * 1024 * 1024,
      queuePrefix: 'newsroom',
      shutdownGraceMs: 8000,
      healthPort: undefined,
      dataDir,
    });
    expect(config.adminToken.length).toBeGreaterThanOrEqual(32);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('makes the admin token and signing secret once, owner-only, then keeps them', () => {
    const own = { STORAGE_DIR: path.join(dataDir, 'own', 'files') };
    const first = loadConfig(own);
    const again = loadConfig(own);
    expect([first.adminTokenOrigin, again.adminTokenOrigin]).toEqual(['created', 'kept']);
    expect(again.adminToken).toBe(first.adminToken);
    expect(again.signingSecret).toBe(first.signingSecret);
    for (const name of ['admin-token', 'signing-secret']) {
      expect(statSync(path.join(dataDir, 'own', name)).mode & 0o777).toBe(0o600);
    }
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ SMTP_URL: 'nonsense' }, 'SMTP_URL'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ ROLE: 'both' }, 'ROLE'],
    [{ QUEUE_PREFIX: 'news:room' }, 'QUEUE_PREFIX'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    [{ ADMIN_TOKEN: 'a'.repeat(48) }, 'ADMIN_TOKEN'],
    [{ ADMIN_TOKEN: 'abababababababababababababababab12' }, 'ADMIN_TOKEN'],
    [{ ADMIN_TOKEN: 'a token with spaces 0123456789 abcdefgh' }, 'ADMIN_TOKEN'],
    [{ SHUTDOWN_GRACE_SECONDS: '0' }, 'SHUTDOWN_GRACE_SECONDS'],
    [{ HEALTH_PORT: 'x' }, 'HEALTH_PORT'],
    [{ NODE_ENV: 'production' }, 'ADMIN_TOKEN'],
    [{ NODE_ENV: 'production' }, 'PUBLIC_URL'],
  ])('stops on a bad value, naming the variable: %j', (env, variable) => {
    expect(() => loadConfig({ ...here, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...here, ...env })).toThrow(new RegExp(`${variable}:`));
  });

  it('says which scheme REDIS_URL must have', () => {
    expect(() => loadConfig({ ...here, REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/REDIS_URL: has the scheme "http:"; it must be redis: or rediss:/);
  });

  it('takes the role from --role= over the environment, and nothing else from the command line', () => {
    expect(loadConfig({ ...here, ROLE: 'web' }, ['--role=worker']).role).toBe('worker');
    expect(() => loadConfig(here, ['--role=nope'])).toThrow(/ROLE:/);
    expect(() => loadConfig(here, ['--rol=web'])).toThrow(/Unknown command-line argument "--rol=web"/);
  });

  it('reads a secret from the file *_FILE names, without its trailing newline', () => {
    const file = path.join(dataDir, 'token-file');
    writeFileSync(file, 'file-admin-token-0123456789abcdefgh\n');
    expect(loadConfig({ ...here, ADMIN_TOKEN_FILE: file }).adminToken).toBe('file-admin-token-0123456789abcdefgh');
    expect(() => loadConfig({ ...here, ADMIN_TOKEN_FILE: file, ADMIN_TOKEN: 'file-admin-token-0123456789abcdefgh' })).toThrow(/not both/);
  });
});

describe('platform endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('keeps links that are their own credential out of the request log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const http = supertest(buildApp({ ...t.ctx, logger }));
    const secrets = ['/unsubscribe/s3cr3t-id.s1gnature', '/subscriptions/confirm/c0nf1rm-t0ken', '/subscriptions/preferences/s3cr3t-id.s1gnature?x=1'];
    for (const url of secrets) await http.get(url);
    const logged = lines.map((line) => JSON.parse(line).req?.url).filter(Boolean);
    expect(logged).toEqual(['/unsubscribe/[redacted]', '/subscriptions/confirm/[redacted]', '/subscriptions/preferences/[redacted]?x=1']);
    expect(lines.join('')).not.toMatch(/s3cr3t|c0nf1rm|s1gnature/);
  });

  it('answers health and readiness', async () => {
    await t.http.get('/healthz').expect(200, { status: 'ok' });
    const ready = await t.http.get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'ok', storage: 'ok', redis: 'ok' } });
  });

  it('is not ready when STORAGE_DIR takes no writes, and tells why to the admin only', async () => {
    const temp = path.join(t.ctx.config.storageDir, 'tmp');
    await rm(temp, { recursive: true, force: true });
    await writeFile(temp, 'not a folder');
    try {
      const anyone = await t.http.get('/readyz').expect(503);
      expect(anyone.body).toEqual({ status: 'unavailable', checks: { database: 'ok', storage: 'failed', redis: 'ok' } });
      const admin = await t.http.get('/readyz').set(t.admin).expect(503);
      expect(admin.body.checks.storage).toMatch(/^STORAGE_DIR: cannot write files under /);
    } finally {
      await rm(temp, { force: true });
      await mkdir(temp);
    }
    await t.http.get('/readyz').expect(200);
  });

  it('keeps the real error of a full SQLite database rather than a failed rollback', async () => {
    const sqlite = t.ctx.store.sqlite;
    if (!sqlite) return expect(t.ctx.store.dialect).toBe('postgres'); // PostgreSQL rolls back itself
    const pages = Number(sqlite.pragma('page_count', { simple: true }));
    sqlite.pragma(`max_page_count = ${pages}`);
    try {
      const filling = t.ctx.db.transaction().execute(async (trx) => {
        await sql`create table filler (data blob)`.execute(trx);
        await sql`insert into filler values (zeroblob(1000000))`.execute(trx);
      });
      await expect(filling).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    } finally {
      sqlite.pragma('max_page_count = 1073741823');
    }
  });

  it('serves an OpenAPI 3.1 document built from the route schemas', async () => {
    const res = await t.http.get('/api/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(await new Validator().validate(res.body)).toEqual({ valid: true });
    const create = res.body.paths['/api/newsrooms/{slug}/releases'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.properties.type.enum).toEqual(['press-release', 'news', 'invitation']);
    expect(schema.properties.translations.additionalProperties.properties.title.maxLength).toBe(300);
    expect(create.security).toEqual([{ bearer: [] }]);
    expect(res.body.paths['/api/releases/{id}/schedule'].post.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    ]);
  });

  it('answers unknown routes with a problem+json 404 and carries a request id', async () => {
    const res = await t.http.get('/api/nothing-here').set('X-Request-Id', 'abc-123').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-request-id']).toBe('abc-123');
    const fresh = await t.http.get('/healthz');
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('methods', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 405 with Allow for a method a path does not take, and OPTIONS with Allow', async () => {
    const res = await t.http.put('/api/newsrooms').set(t.admin).send({}).expect(405);
    expect(res.headers.allow).toBe('POST, GET, HEAD, OPTIONS');
    expect(res.body).toMatchObject({ status: 405, title: 'Method Not Allowed' });
    const options = await t.http.options('/api/releases/00000000-0000-4000-8000-000000000000').expect(204);
    expect(options.headers.allow).toBe('GET, PATCH, DELETE, HEAD, OPTIONS');
  });

  it('routes API paths whatever their case, as express does, though other paths skip the API routes', async () => {
    await t.http.get('/HEALTHZ').expect(200);
    await t.http.put('/Api/Newsrooms').set(t.admin).send({}).expect(405);
    const page = await t.http.get('/healthz-not/fi').expect(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });
});
