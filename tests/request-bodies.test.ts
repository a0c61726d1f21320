/*
 * Issue 9, "no token needed to burn CPU": bodies are read per route, after
 * authentication and the resource load, never inflated, with a nesting limit; answers
 * list a bounded number of field errors; forms have their own small parser.
 */
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import supertest from 'supertest';
import { z } from 'zod';
import { PUBLIC_BODY_LIMIT } from '../src/lib/bodies.js';
import { fieldErrorsOf, invalidSchemaInput, MAX_LISTED_ERRORS, notFoundHandler, problemBody, problemHandler } from '../src/lib/errors.js';
import { checkJsonShape, defineRoute, JSON_BOUNDS, JSON_DEPTH, mountRoutes } from '../src/lib/routes.js';
import { startTestApp } from './support/app.js';
import { buildNewsroom } from './support/factories.js';

const t = await startTestApp();
afterAll(() => t.close());
const home = await buildNewsroom(t);
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('JSON bodies', () => {
  it('are not read on a path the API does not have', async () => {
    const res = await t.http.post('/api/no-such-thing').set('Content-Type', 'application/json').send('{"broken": ');
    expect(res.status).toBe(404);
  });

  it('are not read before the token is checked', async () => {
    const res = await t.http
      .post(`/api/newsrooms/${home.slug}/releases`)
      .set('Content-Type', 'application/json')
      .send('{"broken": ');
    expect(res.status).toBe(401);
  });

  it('are not read before the resource is loaded', async () => {
    const res = await t.http
      .patch('/api/releases/00000000-0000-4000-8000-000000000000')
      .set(home.auth)
      .set('Content-Type', 'application/json')
      .send('{"broken": ');
    expect(res.status).toBe(404);
  });

  it('are refused when compressed, however small, with 415', async () => {
    const body = gzipSync(JSON.stringify({ name: 'desk' }));
    const res = await t.http
      .post(`/api/newsrooms/${home.slug}/tokens`)
      .set(t.admin)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(body);
    expect(res.status).toBe(415);
    expect(res.body.detail).toMatch(/Content-Encoding/);
  });

  it('are taken with Content-Encoding: identity', async () => {
    await t.http
      .post(`/api/newsrooms/${home.slug}/tokens`)
      .set(t.admin)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'identity')
      .send(JSON.stringify({ name: 'desk' }))
      .expect(201);
  });

  it(`nesting more than ${JSON_DEPTH} levels is a 422 naming where`, async () => {
    const res = await t.http
      .post(`/api/newsrooms/${home.slug}/releases`)
      .set(home.auth)
      .set('Content-Type', 'application/json')
      .send(`{"translations":{"fi":{"title":"x","body":"y"}},"keywords":${nested(40)}}`);
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toMatch(/^keywords(\.a)+$/);
  });

  it('a top-level array is a 400 before it is parsed', () => {
    expect(() => checkJsonShape(Buffer.from('['.repeat(1_000_000)))).toThrow(/JSON object/);
  });

  it('the depth check ignores brackets inside strings and keeps array indexes in the path', () => {
    const shallow = { ...JSON_BOUNDS, depth: 4 };
    expect(() => checkJsonShape(Buffer.from(JSON.stringify({ text: '{{{{[[[['.repeat(100) })), shallow)).not.toThrow();
    expect(() => checkJsonShape(Buffer.from('{"list":[1,2,[[[[1]]]]]}'), shallow)).toThrow(
      expect.objectContaining({ errors: [{ path: 'list.2.0.0', message: 'nests more than 4 levels deep' }] }),
    );
  });
});

describe('error lists', () => {
  it('list at most 50 field errors, and say how many there were', async () => {
    const unknown = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`field${i}`, 1]));
    const translations = Object.fromEntries(['fi', 'sv', 'en', 'de', 'fr'].map((lang) => [lang, { title: 'x', ...unknown }]));
    const res = await t.http.post(`/api/newsrooms/${home.slug}/releases`).set(home.auth).send({ translations });
    expect(res.status).toBe(422);
    expect(res.body.errors).toHaveLength(50);
    expect(res.body.detail).toMatch(/first 50 of 150 errors/);
  });

  it('are built only as far as they are listed', () => {
    const schema = z.strictObject({ list: z.array(z.number()) });
    const error = schema.safeParse({ list: Array.from({ length: 1000 }, () => 'x'), ...Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 1])) }).error!;
    expect(fieldErrorsOf(error)).toHaveLength(MAX_LISTED_ERRORS);
    expect(fieldErrorsOf(error, undefined, 3).map((e) => e.path)).toEqual(['list.0', 'list.1', 'list.2']);
    const problem = invalidSchemaInput(error, 'body');
    expect(problem.errors).toHaveLength(MAX_LISTED_ERRORS);
    expect(problemBody(problem).detail).toMatch(/first 50 of 1500 errors/);
  });
});

describe('refusing a body costs no more than reading it (issue 14)', () => {
  it(`stops at the first object with more than ${JSON_BOUNDS.keys} keys, before parsing`, async () => {
    // 150 000 keys that are not language codes once made 150 000 errors, holding the service 1.7 s.
    const translations = Object.fromEntries(Array.from({ length: 150_000 }, (_, i) => [`x${i}`, { title: 'x' }]));
    const res = await t.http.post(`/api/newsrooms/${home.slug}/releases`).set(home.auth).send({ translations });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'translations', message: `has more than ${JSON_BOUNDS.keys} keys` }]);
  });

  it(`stops at the first list with more than ${JSON_BOUNDS.items} items, and names where`, () => {
    const body = Buffer.from(JSON.stringify({ a: { b: [1, Array.from({ length: JSON_BOUNDS.items + 1 }, () => 0)] } }));
    expect(() => checkJsonShape(body)).toThrow(
      expect.objectContaining({ status: 422, errors: [expect.objectContaining({ path: 'a.b.1', message: `has more than ${JSON_BOUNDS.items} items` })] }),
    );
    expect(() => checkJsonShape(Buffer.from(JSON.stringify({ list: Array.from({ length: JSON_BOUNDS.items }, () => 0) })))).not.toThrow();
  });

  it('counts keys per object, whatever their strings hold', () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k:${i},"[`, '{"a":1,"b":2}']));
    expect(() => checkJsonShape(Buffer.from(JSON.stringify({ a: keys(JSON_BOUNDS.keys), b: keys(JSON_BOUNDS.keys) })))).not.toThrow();
    expect(() => checkJsonShape(Buffer.from(JSON.stringify({ a: { b: keys(JSON_BOUNDS.keys + 1) } })))).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ path: 'a.b', message: `has more than ${JSON_BOUNDS.keys} keys` })] }),
    );
  });
});

describe(`public bodies: at most ${PUBLIC_BODY_LIMIT} bytes (issue 14)`, () => {
  const subscribe = () => t.http.post(`/api/newsrooms/${home.slug}/subscriptions`);
  const padded = (bytes: number) => ({ email: 'reader@example.org', keywords: ['x'.repeat(bytes)] });

  it('a subscription in JSON one byte over is a 413 problem, before it is read', async () => {
    const fits = JSON.stringify(padded(0));
    const over = JSON.stringify(padded(PUBLIC_BODY_LIMIT - fits.length + 1));
    expect(Buffer.byteLength(over)).toBe(PUBLIC_BODY_LIMIT + 1);
    const res = await subscribe().set('Content-Type', 'application/json').send(over);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toBe(`The request body is larger than the limit of ${PUBLIC_BODY_LIMIT} bytes.`);
    // At the limit it is read (and refused for its keyword, not its size).
    expect((await subscribe().set('Content-Type', 'application/json').send(JSON.stringify(padded(PUBLIC_BODY_LIMIT - fits.length)))).status).toBe(422);
  });

  it('the same body sent in chunks is a 413 when it passes the limit', async () => {
    const server = t.app.listen(0);
    const { port } = server.address() as AddressInfo;
    const chunk = Buffer.from(`${JSON.stringify(padded(10)).slice(0, -3)}${'x'.repeat(4096)}`);
    const res = await fetch(`http://127.0.0.1:${port}/api/newsrooms/${home.slug}/subscriptions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 8; i++) controller.enqueue(chunk);
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    server.close();
    expect([res.status, res.headers.get('content-type')]).toEqual([413, 'application/problem+json; charset=utf-8']);
  });

  it('the subscribe form, a confirmation and the staff sign-in take no more', async () => {
    const form = (url: string) => t.http.post(url).set('Content-Type', 'application/x-www-form-urlencoded').send(`email=a%40example.org&x=${'a'.repeat(PUBLIC_BODY_LIMIT)}`);
    expect((await form(`/api/newsrooms/${home.slug}/subscriptions`)).status).toBe(413);
    expect((await form('/subscriptions/confirm/not-a-token')).status).toBe(413);
    expect((await form('/admin/sign-in')).status).toBe(413);
  });
});

describe('the form parser', () => {
  const app = express();
  const router = express.Router();
  mountRoutes(
    router,
    [
      defineRoute({
        method: 'post',
        path: '/unsubscribe',
        tag: 'Test',
        summary: 'A one-click unsubscribe',
        access: 'public',
        form: z.object({ 'List-Unsubscribe': z.literal('One-Click'), lang: z.array(z.string()).optional() }),
        responses: { 200: { description: 'Read' } },
        handle: ({ body }) => ({ status: 200, body }),
      }),
    ],
    async () => undefined,
  );
  app.use(router, notFoundHandler, problemHandler(t.ctx.logger));
  const http = supertest(app);
  const form = (body: string | Buffer, type = 'application/x-www-form-urlencoded') =>
    http.post('/unsubscribe').set('Content-Type', type).send(body);

  it('reads a one-click unsubscribe POST, and repeated fields as a list', async () => {
    const res = await form('List-Unsubscribe=One-Click&lang=fi&lang=sv').expect(200);
    expect(res.body).toEqual({ 'List-Unsubscribe': 'One-Click', lang: ['fi', 'sv'] });
  });

  it('refuses other content types, compression, other charsets and big bodies', async () => {
    expect((await form('{"List-Unsubscribe":"One-Click"}', 'application/json')).status).toBe(415);
    expect((await form('List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded; charset=latin1')).status).toBe(415);
    expect((await form(gzipSync('List-Unsubscribe=One-Click')).set('Content-Encoding', 'gzip')).status).toBe(415);
    expect((await form(`List-Unsubscribe=One-Click&x=${'a'.repeat(20_000)}`)).status).toBe(413);
    // Raw bytes: supertest would serialise a Buffer sent as a form.
    const server = app.listen(0);
    const { port } = server.address() as AddressInfo;
    const notUtf8 = await fetch(`http://127.0.0.1:${port}/unsubscribe`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('List-Unsubscribe=One-Click&x=\xff', 'latin1'),
    });
    server.close();
    expect([notUtf8.status, ((await notUtf8.json()) as { detail: string }).detail]).toEqual([400, 'The form is not valid UTF-8.']);
  });

  it('gives a 422 for fields that break the schema', async () => {
    const res = await form('List-Unsubscribe=Later');
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('List-Unsubscribe');
  });
});
