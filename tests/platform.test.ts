import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ConfigError, loadConfig } from '../src/lib/config.js';
import { startTestApp, type TestApp } from './support/app.js';

describe('configuration', () => {
  it('runs on its embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      publicUrl: 'http://localhost:3000',
      databaseUrl: 'sqlite:./data/newsroom.db',
      redisUrl: 'redis://127.0.0.1:6379',
      smtpUrl: undefined,
      mailFrom: 'newsroom@localhost',
      role: 'all',
      uploadMaxBytes: 50 * 1024 * 1024,
      adminTokenGenerated: true,
      queuePrefix: 'newsroom',
    });
    expect(config.adminToken.length).toBeGreaterThanOrEqual(32);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ SMTP_URL: 'nonsense' }, 'SMTP_URL'],
    [{ ROLE: 'both' }, 'ROLE'],
    [{ QUEUE_PREFIX: 'news:room' }, 'QUEUE_PREFIX'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    [{ NODE_ENV: 'production' }, 'ADMIN_TOKEN'],
  ])('stops on a bad value, naming the variable: %j', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`${variable}:`));
  });

  it('takes the role from --role= over the environment', () => {
    expect(loadConfig({ ROLE: 'web' }, ['--role=worker']).role).toBe('worker');
    expect(() => loadConfig({}, ['--role=nope'])).toThrow(/ROLE:/);
  });
});

describe('platform endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers health and readiness', async () => {
    await t.http.get('/healthz').expect(200, { status: 'ok' });
    const ready = await t.http.get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'ok', redis: 'ok' } });
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
});
