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
import { notFoundHandler, problemHandler } from '../src/lib/errors.js';
import { checkJsonShape, defineRoute, JSON_DEPTH, mountRoutes } from '../src/lib/routes.js';
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
    expect(() => checkJsonShape(Buffer.from('['.repeat(1_000_000)), JSON_DEPTH)).toThrow(/JSON object/);
  });

  it('the depth check ignores brackets inside strings and keeps array indexes in the path', () => {
    expect(() => checkJsonShape(Buffer.from(JSON.stringify({ text: '{{{{[[[['.repeat(100) })), 4)).not.toThrow();
    expect(() => checkJsonShape(Buffer.from('{"list":[1,2,[[[[1]]]]]}'), 4)).toThrow(
      expect.objectContaining({ errors: [{ path: 'list.2.0.0', message: 'nests more than 4 levels deep' }] }),
    );
  });
});

describe('error lists', () => {
  it('list at most 50 field errors, and say how many there were', async () => {
    const unknown = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`field${i}`, 1]));
    const res = await t.http.post('/api/newsrooms').set(t.admin).send({ slug: 'x', ...unknown });
    expect(res.status).toBe(422);
    expect(res.body.errors).toHaveLength(50);
    expect(res.body.detail).toMatch(/first 50 of 500\d errors/);
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
    expect([notUtf8.status, ((await notUtf8.json()) as { detail: string }).detail]).toEqual([400, 'The request body is not valid UTF-8.']);
  });

  it('gives a 422 for fields that break the schema', async () => {
    const res = await form('List-Unsubscribe=Later');
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('List-Unsubscribe');
  });
});
