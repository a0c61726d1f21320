import net from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { isOutage } from '../src/lib/errors.js';
import { POSTGRES_URL, startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildNewsroom, buildRelease } from './support/factories.js';
import { StaffClient } from './support/staff.js';

/*
 * A database or file store that stops answering is an outage, not our bug: the answer
 * is 503 with Retry-After (which a load balancer and a client retry), never a 500. The
 * outage is real: the app reaches PostgreSQL or the S3 server through a TCP relay that
 * the test cuts, closing every connection and refusing new ones.
 */

interface Relay {
  port: number;
  /** Closes every connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
}

/** Every relay made, closed after each test so that nothing keeps the test process alive. */
const relays: Relay[] = [];

async function relayTo(host: string, upstreamPort: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const relay: Relay = {
    port,
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
    restore: () => listen(port),
  };
  relays.push(relay);
  return relay;
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close().catch(() => undefined);
  t = undefined;
  await Promise.all(relays.splice(0).map((relay) => relay.cut()));
});

const expectOutageAnswer = (res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }) => {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.detail).toMatch(/not answering/);
};

describe('isOutage', () => {
  it('tells a dependency that is not answering from our own errors', () => {
    expect(isOutage(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isOutage(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isOutage(new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })]))).toBe(true);
    expect(isOutage(Object.assign(new Error('S3'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isOutage(new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9000'))).toBe(true);
    expect(isOutage(new Error('wrapped', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }))).toBe(true);
    expect(isOutage(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isOutage(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isOutage(Object.assign(new Error('NoSuchKey'), { $metadata: { httpStatusCode: 404 } }))).toBe(false);
  });
});

const onPostgres = process.env.TEST_DATABASE === 'postgres' ? it : it.skip;
const onBucket = process.env.TEST_STORAGE === 's3' ? it : it.skip;

describe('an outage answers 503 with Retry-After', () => {
  onPostgres('the database stops answering: API, pages and the staff app say 503, and recover after', async () => {
    const database = new URL(POSTGRES_URL);
    const relay = await relayTo(database.hostname, Number(database.port || 5432));
    database.port = String(relay.port);
    t = await startTestApp({ DATABASE_URL: database.toString() });
    const newsroom = await buildNewsroom(t);
    await t.http.get(`/api/newsrooms/${newsroom.slug}`).set(newsroom.auth).expect(200);
    const staff = new StaffClient(t);
    await staff.signIn(newsroom.token);

    await relay.cut();
    expectOutageAnswer(await t.http.get(`/api/newsrooms/${newsroom.slug}`).set(newsroom.auth));
    expectOutageAnswer(await t.http.get(`/${newsroom.slug}/fi`));
    const page = await staff.get('/admin/releases');
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('5');
    expect(page.headers['content-type']).toMatch(/^text\/html/);

    await relay.restore();
    await t.http.get(`/api/newsrooms/${newsroom.slug}`).set(newsroom.auth).expect(200);
    await t.http.get(`/${newsroom.slug}/fi`).expect(200);
  });

  onBucket('the file store stops answering: a file is 503, the release still answers, and files recover after', async () => {
    const endpoint = new URL(process.env.TEST_S3_ENDPOINT!);
    const relay = await relayTo(endpoint.hostname, Number(endpoint.port));
    endpoint.port = String(relay.port);
    t = await startTestApp({ AWS_ENDPOINT_URL_S3: endpoint.toString().replace(/\/$/, '') });
    const newsroom = await buildNewsroom(t);
    const release = await buildRelease(t, newsroom);
    const attachment = await buildAttachment(t, newsroom, release.id);
    const filePath = new URL(attachment.url).pathname;
    await t.http.get(filePath).set(newsroom.auth).expect(200);

    await relay.cut();
    expectOutageAnswer(await t.http.get(filePath).set(newsroom.auth));
    await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200);

    await relay.restore();
    await t.http.get(filePath).set(newsroom.auth).expect(200);
  });
});
