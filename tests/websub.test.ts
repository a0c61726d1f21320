import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pubsubhubbub, { type Distribution } from 'pubsubhubbub';
import { startAggregatorWorker } from '../src/aggregators/worker.js';
import { loadConfig } from '../src/lib/config.js';
import { OutboundError, outboundRequest } from '../src/lib/outbound.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { recordReleaseEvents } from '../src/publication/events.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { asText, startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';

/*
 * The WebSub hub and IndexNow against real HTTP: a subscriber written to the WebSub
 * text (it answers verification of intent by echoing hub.challenge, and records the
 * content distributions it is sent) and an IndexNow endpoint, both small HTTP servers
 * in this process. Real database, Redis, BullMQ workers.
 */

interface Received {
  at: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  query: URLSearchParams;
  method: string;
}

/** How each callback path answers: confirm (echo the challenge), refuse (404), or fail its distributions (500). */
const behaviour = new Map<string, 'confirm' | 'refuse' | 'fail'>();
const received: Received[] = [];
let server: http.Server;
let origin: string;

function startSubscriberServer(): Promise<void> {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://localhost');
      received.push({ at: Date.now(), path: url.pathname, headers: req.headers, body, query: url.searchParams, method: req.method! });
      const mode = behaviour.get(url.pathname) ?? 'confirm';
      if (req.method === 'GET') {
        if (mode === 'refuse') res.writeHead(404).end('no such subscription');
        else res.writeHead(200, { 'content-type': 'text/plain' }).end(url.searchParams.get('hub.challenge') ?? '');
        return;
      }
      res.writeHead(mode === 'fail' ? 500 : 200).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

async function until<T>(probe: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > end) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const INDEXNOW_KEY = 'test-indexnow-key-0123456789';
let t: TestApp;
let newsroom: NewsroomFixture;
let workers: RunningWorker[];
let base: string;

beforeAll(async () => {
  await startSubscriberServer();
  t = await startTestApp({
    OUTBOUND_ALLOW_PRIVATE: 'true', // the subscriber is on loopback
    OUTBOUND_RETRY_DELAY_MS: '50',
    INDEXNOW_KEY,
    INDEXNOW_ENDPOINT: `${origin}/indexnow`,
  });
  base = t.ctx.config.publicUrl;
  newsroom = await buildNewsroom(t);
  workers = [await startAggregatorWorker(t.ctx), await startPublicationWorker(t.ctx)];
});
afterAll(async () => {
  for (const w of workers) await w.close();
  await t.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const subscriptionRows = (callback: string) =>
  t.ctx.db.selectFrom('websub_subscriptions').selectAll().where('callback', '=', callback).execute();

const hubPost = (fields: Record<string, string>) => t.http.post('/websub').type('form').send(fields);

/** Subscribes `path` on the subscriber server to `topic` and waits for the verified row. */
async function subscribe(path: string, topic: string, secret?: string) {
  const callback = `${origin}${path}`;
  await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': callback, ...(secret ? { 'hub.secret': secret } : {}) }).expect(202);
  const rows = await until(() => subscriptionRows(callback), (r) => r.length === 1);
  expect(rows).toHaveLength(1);
  return callback;
}

const distributionsTo = (path: string) => received.filter((r) => r.path === path && r.method === 'POST');
const indexNowFor = (releaseId: string) =>
  received.filter((r) => r.path === '/indexnow' && (JSON.parse(r.body).urlList as string[]).some((u) => u.includes(releaseId)));

describe('feeds advertise the hub (WebSub discovery)', () => {
  it('names the hub and itself in the RSS, Atom and JSON Feed documents and in Link headers', async () => {
    const hub = `${base}/websub`;
    const rss = await asText(t.http.get(`/${newsroom.slug}/fi/rss.xml`)).expect(200);
    const self = `${base}/${newsroom.slug}/fi/rss.xml`;
    expect(rss.headers.link).toBe(`<${hub}>; rel="hub", <${self}>; rel="self"`);
    expect(rss.body).toContain(`<atom:link rel="hub" href="${hub}"/>`);
    expect(rss.body).toMatch(new RegExp(`<atom:link href="${self}" rel="self"`));

    const atom = await asText(t.http.get(`/${newsroom.slug}/sv/keyword/Bibliotek/atom.xml`)).expect(200);
    const atomSelf = `${base}/${newsroom.slug}/sv/keyword/bibliotek/atom.xml`;
    expect(atom.headers.link).toBe(`<${hub}>; rel="hub", <${atomSelf}>; rel="self"`);
    expect(atom.body).toContain(`<link rel="hub" href="${hub}"/>`);
    expect(atom.body).toContain(`<link rel="self" type="application/atom+xml" href="${atomSelf}"/>`);

    const json = await asText(t.http.get('/feed.json')).expect(200);
    expect(json.headers.link).toBe(`<${hub}>; rel="hub", <${base}/feed.json>; rel="self"`);
    expect(JSON.parse(json.body)).toMatchObject({ feed_url: `${base}/feed.json`, hubs: [{ type: 'WebSub', url: hub }] });
  });
});

describe('subscription requests (verification of intent)', () => {
  it('verifies a subscription with a GET carrying the challenge, then keeps it for its lease', async () => {
    const topic = `${base}/${newsroom.slug}/fi/atom.xml`;
    await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': `${origin}/cb/lease?id=7`, 'hub.lease_seconds': '7200' }).expect(202);
    const rows = await until(() => subscriptionRows(`${origin}/cb/lease?id=7`), (r) => r.length === 1);
    const check = received.find((r) => r.path === '/cb/lease' && r.method === 'GET')!;
    expect(check.query.get('id')).toBe('7'); // the callback's own query is kept
    expect(check.query.get('hub.mode')).toBe('subscribe');
    expect(check.query.get('hub.topic')).toBe(topic);
    expect(check.query.get('hub.challenge')).toMatch(/^[0-9a-f]{48}$/);
    expect(check.query.get('hub.lease_seconds')).toBe('7200');
    expect(rows[0]).toMatchObject({ topic, lease_seconds: 7200 });
    const lease = Date.parse(rows[0]!.expires_at) - Date.now();
    expect(lease).toBeGreaterThan(7100_000);
    expect(lease).toBeLessThanOrEqual(7200_000);
  });

  it('renews a subscription asked again before its lease ends: one subscription, the new lease (websub.rocks hub test 103)', async () => {
    const topic = `${base}/${newsroom.slug}/sv/rss.xml`;
    const callback = `${origin}/cb/renew`;
    await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': callback, 'hub.lease_seconds': '3600' }).expect(202);
    const [first] = await until(() => subscriptionRows(callback), (r) => r.length === 1);
    await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': callback, 'hub.lease_seconds': '86400' }).expect(202);
    const renewed = await until(() => subscriptionRows(callback), (r) => r[0]?.lease_seconds === 86400);
    expect(renewed).toHaveLength(1);
    expect(Date.parse(renewed[0]!.expires_at)).toBeGreaterThan(Date.parse(first!.expires_at) + 80_000_000);
    expect(received.filter((r) => r.path === '/cb/renew' && r.method === 'GET').map((r) => r.query.get('hub.lease_seconds'))).toEqual(['3600', '86400']);
  });

  it('keeps no subscription when the callback does not echo the challenge', async () => {
    behaviour.set('/cb/refuses', 'refuse');
    await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': `${base}/rss.xml`, 'hub.callback': `${origin}/cb/refuses` }).expect(202);
    await until(() => received.filter((r) => r.path === '/cb/refuses'), (r) => r.length > 0);
    await until(() => t.ctx.db.selectFrom('websub_intents').selectAll().execute(), (rows) => rows.length === 0);
    expect(await subscriptionRows(`${origin}/cb/refuses`)).toEqual([]);
  });

  it('unsubscribes after verifying that intent too', async () => {
    const topic = `${base}/rss.xml`;
    const callback = await subscribe('/cb/leaving', topic);
    await hubPost({ 'hub.mode': 'unsubscribe', 'hub.topic': topic, 'hub.callback': callback }).expect(202);
    await until(() => subscriptionRows(callback), (r) => r.length === 0);
    expect(await subscriptionRows(callback)).toEqual([]);
    const checks = received.filter((r) => r.path === '/cb/leaving' && r.method === 'GET');
    expect(checks.map((c) => c.query.get('hub.mode'))).toEqual(['subscribe', 'unsubscribe']);
    expect(checks[1]!.query.has('hub.lease_seconds')).toBe(false);
  });

  it('refuses at once (400) a topic that is not one of its feeds, or a callback that is not http(s)', async () => {
    const bad = await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': 'https://elsewhere.example/rss.xml', 'hub.callback': `${origin}/cb/x` }).expect(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.body.errors[0].path).toBe('hub.topic');
    await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': `${base}/no-such-newsroom/fi/rss.xml`, 'hub.callback': `${origin}/cb/x` }).expect(400);
    await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': `${base}/${newsroom.slug}/de/rss.xml`, 'hub.callback': `${origin}/cb/x` }).expect(400);
    const scheme = await hubPost({ 'hub.mode': 'subscribe', 'hub.topic': `${base}/rss.xml`, 'hub.callback': 'file:///etc/passwd' }).expect(400);
    expect(scheme.body.errors[0].path).toBe('hub.callback');
    // A mode the hub does not take is a form that breaks a rule: 422, as every form here.
    await hubPost({ 'hub.mode': 'publish', 'hub.topic': `${base}/rss.xml`, 'hub.callback': `${origin}/cb/x` }).expect(422);
    await t.http.post('/websub').send({ 'hub.mode': 'subscribe' }).expect(415);
  });
});

describe('content distribution and IndexNow at publication', () => {
  it('sends the updated feed, signed with the secret, to the subscribers of the feeds the release is in, and submits its pages', async () => {
    const secret = 'subscriber-secret-1';
    await subscribe('/cb/fi-rss', `${base}/${newsroom.slug}/fi/rss.xml`, secret);
    await subscribe('/cb/all-json', `${base}/feed.json`);
    await subscribe('/cb/keyword-other', `${base}/${newsroom.slug}/fi/keyword/urheilu/rss.xml`);

    const release = await buildRelease(t, newsroom);
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);

    const [rss] = await until(() => distributionsTo('/cb/fi-rss'), (d) => d.length > 0);
    expect(rss!.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    expect(rss!.body).toContain('Uusi kirjasto avataan');
    expect(rss!.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', secret).update(rss!.body).digest('hex')}`);
    expect(rss!.headers.link).toBe(`<${base}/websub>; rel="hub", <${base}/${newsroom.slug}/fi/rss.xml>; rel="self"`);

    const [json] = await until(() => distributionsTo('/cb/all-json'), (d) => d.length > 0);
    expect(json!.headers['x-hub-signature']).toBeUndefined(); // no secret given
    expect(JSON.parse(json!.body).items.map((i: { title: string }) => i.title)).toContain('Uusi kirjasto avataan');

    const [submission] = await until(() => indexNowFor(release.id), (s) => s.length > 0);
    expect(JSON.parse(submission!.body)).toEqual({
      host: 'news.example.test',
      key: INDEXNOW_KEY,
      keyLocation: `${base}/${INDEXNOW_KEY}.txt`,
      urlList: [release.links.web.fi, release.links.web.sv],
    });
    expect(distributionsTo('/cb/keyword-other')).toEqual([]); // the release has no such keyword
  });

  it('serves the IndexNow key file at the site root', async () => {
    const res = await asText(t.http.get(`/${INDEXNOW_KEY}.txt`)).expect(200);
    expect(res.body).toBe(INDEXNOW_KEY);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    await t.http.get('/some-other-key-0123.txt').expect(404);
  });

  it('tells subscribers and IndexNow of a correction and of a withdrawal, with the feed as it then is', async () => {
    const callback = '/cb/sv-atom';
    await subscribe(callback, `${base}/${newsroom.slug}/sv/atom.xml`);
    const release = await buildRelease(t, newsroom, {
      translations: { sv: { title: 'Ett pressmeddelande att rätta', lead: 'Ingress.', body: 'Text.' } },
      keywords: {},
    });
    await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
    await until(() => distributionsTo(callback).filter((d) => d.body.includes('att rätta')), (d) => d.length > 0);

    await t.http.patch(`/api/releases/${release.id}`).set(newsroom.auth)
      .send({ translations: { sv: { title: 'Ett rättat pressmeddelande' } } }).expect(200);
    const corrected = await until(() => distributionsTo(callback).filter((d) => d.body.includes('Ett rättat pressmeddelande')), (d) => d.length > 0);
    expect(corrected).toHaveLength(1);
    expect((await until(() => indexNowFor(release.id), (s) => s.length >= 2)).length).toBe(2);

    const before = distributionsTo(callback).length;
    await t.http.post(`/api/releases/${release.id}/withdraw`).set(newsroom.auth).expect(200);
    const after = await until(() => distributionsTo(callback), (d) => d.length > before);
    expect(after.at(-1)!.body).not.toContain('Ett rättat pressmeddelande');
    expect((await until(() => indexNowFor(release.id), (s) => s.length >= 3)).length).toBe(3);
    const events = await t.ctx.db.selectFrom('release_events').select('kind').where('release_id', '=', release.id).orderBy('created_at').execute();
    expect(events.map((e) => e.kind)).toEqual(['published', 'corrected', 'withdrawn']);
  });

  it('embargo: a scheduled release causes no distribution and no IndexNow ping before its time', async () => {
    const callback = '/cb/embargo';
    await subscribe(callback, `${base}/${newsroom.slug}/fi/feed.json`);
    const release = await buildRelease(t, newsroom, {
      translations: { fi: { title: 'Salainen tiedote', lead: 'Ingressi.', body: 'Teksti.' } },
      keywords: {},
    });
    const publishAt = Date.now() + 3000;
    await t.http.post(`/api/releases/${release.id}/schedule`).set(newsroom.auth).send({ publishAt: new Date(publishAt).toISOString() }).expect(200);

    // Until just before the time: nothing at all about it reached the subscriber or IndexNow.
    while (Date.now() < publishAt - 300) {
      expect(distributionsTo(callback)).toEqual([]);
      expect(indexNowFor(release.id)).toEqual([]);
      expect(received.some((r) => r.body.includes('Salainen tiedote'))).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [sent] = await until(() => distributionsTo(callback), (d) => d.length > 0);
    expect(sent!.at).toBeGreaterThanOrEqual(publishAt);
    expect(sent!.body).toContain('Salainen tiedote');
    const [submitted] = await until(() => indexNowFor(release.id), (s) => s.length > 0);
    expect(submitted!.at).toBeGreaterThanOrEqual(publishAt);
  });
});

describe('a WebSub subscriber written elsewhere (the npm package pubsubhubbub)', () => {
  it('subscribes, is verified, gets the feed signed at publication and unsubscribes', async () => {
    const hubServer = http.createServer(t.app);
    await new Promise<void>((resolve) => hubServer.listen(0, '127.0.0.1', resolve));
    const hub = `http://127.0.0.1:${(hubServer.address() as AddressInfo).port}/websub`;
    const subscriber = pubsubhubbub.createServer({ secret: 'third-party-secret' });
    await new Promise((resolve) => {
      subscriber.once('listen', resolve);
      subscriber.listen(0, '127.0.0.1');
    });
    subscriber.callbackUrl = `http://127.0.0.1:${(subscriber.server.address() as AddressInfo).port}/pubsub`;
    const next = <T>(event: string) => new Promise<T>((resolve) => subscriber.once(event, resolve));
    try {
      const topic = `${base}/${newsroom.slug}/fi/rss.xml`;
      const verified = next<{ topic: string }>('subscribe');
      await new Promise<void>((resolve, reject) => subscriber.subscribe(topic, hub, (error) => (error ? reject(error) : resolve())));
      expect((await verified).topic).toBe(topic);

      // The package sends the hub HMAC-SHA1(secret, topic) as hub.secret but checks
      // signatures with the secret itself; given what it sent, its own check passes.
      subscriber.secret = createHmac('sha1', 'third-party-secret').update(topic).digest('hex');
      const distributed = next<Distribution>('feed');
      const release = await buildRelease(t, newsroom, { translations: { fi: { title: 'Tilaaja muualta', lead: 'Ingressi.', body: 'Teksti.' } }, keywords: {} });
      await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
      const feed = await distributed;
      expect(feed.topic).toBe(topic);
      expect(feed.headers['x-hub-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(feed.feed.toString('utf8')).toContain('Tilaaja muualta');

      const left = next<{ topic: string }>('unsubscribe');
      await new Promise<void>((resolve, reject) => subscriber.unsubscribe(topic, hub, (error) => (error ? reject(error) : resolve())));
      expect((await left).topic).toBe(topic);
      expect(await until(() => t.ctx.db.selectFrom('websub_subscriptions').selectAll().where('topic', '=', topic).where('callback', 'like', `${subscriber.callbackUrl}%`).execute(), (rows) => rows.length === 0)).toEqual([]);
    } finally {
      subscriber.server.close();
      hubServer.closeAllConnections();
      hubServer.close();
    }
  }, 30_000);
});

describe('delivery failures, and jobs rebuilt from the database', () => {
  it('retries a failing callback with back-off and drops it after three distributions failed for good', async () => {
    const callback = await subscribe('/cb/broken', `${base}/${newsroom.slug}/fi/rss.xml`);
    behaviour.set('/cb/broken', 'fail');
    for (let i = 1; i <= 3; i++) {
      const release = await buildRelease(t, newsroom, { keywords: {} });
      await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
      await until(() => distributionsTo('/cb/broken'), (d) => d.length >= 5 * i);
      const rows = await until(() => subscriptionRows(callback), (r) => (i < 3 ? r[0]?.failures === i : r.length === 0));
      if (i < 3) expect(rows[0]!.failures).toBe(i);
      else expect(rows).toEqual([]);
    }
    const attempts = distributionsTo('/cb/broken').slice(0, 5).map((d) => d.at);
    // Exponential back-off: each wait at least the one before it (50, 100, 200, 400 ms).
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
    expect(gaps[3]!).toBeGreaterThanOrEqual(350);
  });

  it('dispatches an event whose jobs never reached Redis from the outbox row alone', async () => {
    const callback = '/cb/outbox';
    await subscribe(callback, `${base}/${newsroom.slug}/fi/atom.xml`);
    const release = await buildRelease(t, newsroom, { keywords: {} });
    // Published and announced, but (as if Redis had been away) its event never dispatched:
    await t.ctx.db.updateTable('releases').set({ status: 'published', published_at: new Date().toISOString(), publish_at: new Date().toISOString(), announced_at: new Date().toISOString() }).where('id', '=', release.id).execute();
    await recordReleaseEvents(t.ctx.db, [release.id], 'published', new Date().toISOString());
    const [sent] = await until(() => distributionsTo(callback).filter((d) => d.body.includes(release.id)), (d) => d.length > 0);
    expect(sent).toBeDefined();
  });
});

describe('outbound requests', () => {
  it('refuse loopback and private addresses, also behind a name, unless OUTBOUND_ALLOW_PRIVATE=true', async () => {
    await expect(outboundRequest(`${origin}/cb/ssrf`, false)).rejects.toThrow(OutboundError);
    await expect(outboundRequest(origin.replace('127.0.0.1', 'localhost') + '/cb/ssrf', false)).rejects.toThrow(/not allowed|private/i);
    await expect(outboundRequest('http://169.254.169.254/latest/meta-data', false, { timeoutMs: 2000 })).rejects.toThrow(OutboundError);
    expect(received.filter((r) => r.path === '/cb/ssrf')).toEqual([]);
    expect((await outboundRequest(`${origin}/cb/ssrf?hub.challenge=ok`, true)).body).toBe('ok');
  });

  it('are refused to private addresses by default (the setting is off unless given)', () => {
    const env = { NODE_ENV: 'test', ADMIN_TOKEN: 'test-admin-token-0123456789abcdef', SIGNING_SECRET: 'x'.repeat(32) };
    expect(loadConfig(env).outboundAllowPrivate).toBe(false);
    expect(loadConfig(env).indexNow).toBeUndefined();
    expect(() => loadConfig({ ...env, OUTBOUND_ALLOW_PRIVATE: 'yes' })).toThrow(/OUTBOUND_ALLOW_PRIVATE/);
    expect(() => loadConfig({ ...env, INDEXNOW_KEY: 'short' })).toThrow(/INDEXNOW_KEY/);
  });
});
