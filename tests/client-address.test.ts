import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ipHash, newConfirmationToken } from '../src/subscriptions/links.js';
import { PER_IP_PER_HOUR } from '../src/subscriptions/operations.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/lib/config.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, type NewsroomFixture } from './support/factories.js';
import { StaffClient } from './support/staff.js';

/*
 * The client's address, which the sign-in throttle, the per-IP subscription limit and the
 * consent record use: the socket's unless TRUST_PROXY names the proxy the request came
 * through, and then the address that proxy saw (the last untrusted hop of X-Forwarded-For).
 * Supertest connects from loopback, so with TRUST_PROXY=loopback the test plays the proxy.
 */

let counter = 0;
const address = (label: string) => `${label}.${Date.now().toString(36)}.${++counter}@example.net`;
const FAILURES_TO_LOCK = 8;

/** Whether the subscribe request left a confirmation email to send (the answer is 202 either way). */
async function subscribeAsked(t: TestApp, slug: string, email: string, forwardedFor?: string): Promise<boolean> {
  const request = t.http.post(`/api/newsrooms/${slug}/subscriptions`);
  if (forwardedFor !== undefined) request.set('X-Forwarded-For', forwardedFor);
  await request.send({ email }).expect(202);
  const row = await t.ctx.db
    .selectFrom('subscription_confirmations')
    .innerJoin('subscribers', 'subscribers.id', 'subscription_confirmations.subscriber_id')
    .select('subscription_confirmations.id')
    .where('subscribers.email_key', '=', email.toLowerCase())
    .executeTakeFirst();
  return row !== undefined;
}

/** Fails to sign in until the form locks this client out; each failure answers 401. */
async function lockOut(staff: StaffClient) {
  await staff.get('/admin/sign-in');
  for (let i = 0; i < FAILURES_TO_LOCK; i++) expect((await staff.post('/admin/sign-in', { token: `wrong-${i}` })).status).toBe(401);
}

/** Sign-in with a good token: 303 when let in, 429 when locked out. */
async function signInStatus(staff: StaffClient, token: string) {
  await staff.get('/admin/sign-in');
  return (await staff.post('/admin/sign-in', { token })).status;
}

async function withApp(env: Record<string, string>, run: (t: TestApp, newsroom: NewsroomFixture) => Promise<void>) {
  const t = await startTestApp(env);
  try {
    await run(t, await buildNewsroom(t));
  } finally {
    await t.ctx.subscriptionMail.queue.obliterate({ force: true }).catch(() => undefined);
    await t.close();
  }
}

describe('TRUST_PROXY in the configuration', () => {
  const here = { STORAGE_DIR: '/tmp/newsroom-trust-proxy/files', ADMIN_TOKEN: 'test-admin-token-0123456789abcdef', SIGNING_SECRET: 'x'.repeat(32) };

  it('takes loopback, a hop count, or addresses and CIDRs, as Express does; unset trusts nobody', () => {
    expect(loadConfig(here).trustProxy).toBe(false);
    expect(loadConfig({ ...here, TRUST_PROXY: 'loopback' }).trustProxy).toEqual(['loopback']);
    expect(loadConfig({ ...here, TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ ...here, TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ ...here, TRUST_PROXY: 'loopback, 10.0.0.0/8,192.168.1.7, fd00::/8' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
    ]);
  });

  it.each(['true', 'lopback', '10.0.0.0/33', '10.0.0.300', 'loopback,', '-1'])('stops the start on %j, naming the variable', (value) => {
    expect(() => loadConfig({ ...here, TRUST_PROXY: value })).toThrow(/TRUST_PROXY: /);
  });
});

describe('with TRUST_PROXY unset', () => {
  it('X-Forwarded-For is ignored: varying it escapes neither the per-IP subscription limit nor a sign-in lockout', async () => {
    await withApp({}, async (t, newsroom) => {
      for (let i = 0; i < PER_IP_PER_HOUR; i++) {
        expect(await subscribeAsked(t, newsroom.slug, address('reader'), `198.51.100.${i}`)).toBe(true);
      }
      expect(await subscribeAsked(t, newsroom.slug, address('dodger'), '198.51.100.250')).toBe(false);
      expect(await subscribeAsked(t, newsroom.slug, address('dodger'), '2001:db8::1')).toBe(false);

      await lockOut(new StaffClient(t, { 'X-Forwarded-For': '198.51.100.1' }));
      expect(await signInStatus(new StaffClient(t, { 'X-Forwarded-For': '198.51.100.2' }), newsroom.token)).toBe(429);
      expect(await signInStatus(new StaffClient(t), newsroom.token)).toBe(429);
    });
  });
});

describe('with TRUST_PROXY=loopback (the service behind a proxy)', () => {
  let t: TestApp;
  let newsroom: NewsroomFixture;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'loopback' });
    newsroom = await buildNewsroom(t);
  });
  afterAll(async () => {
    await t?.ctx.subscriptionMail.queue.obliterate({ force: true }).catch(() => undefined);
    await t?.close();
  });

  it('gives each client behind the proxy its own subscription budget', async () => {
    for (let i = 0; i < PER_IP_PER_HOUR; i++) expect(await subscribeAsked(t, newsroom.slug, address('a'), '203.0.113.1')).toBe(true);
    expect(await subscribeAsked(t, newsroom.slug, address('a'), '203.0.113.1')).toBe(false);
    expect(await subscribeAsked(t, newsroom.slug, address('b'), '203.0.113.2')).toBe(true);
    // The proxy appends the address it saw; what the client wrote before it is not believed.
    expect(await subscribeAsked(t, newsroom.slug, address('a'), '198.51.100.77, 203.0.113.1')).toBe(false);
    // Counted under the client's address, as the per-IP limit's hash of it.
    const hashes = await t.ctx.db.selectFrom('subscription_confirmations').select('ip_hash').distinct().execute();
    expect(new Set(hashes.map((h) => h.ip_hash))).toEqual(
      new Set(['203.0.113.1', '203.0.113.2'].map((ip) => ipHash(t.ctx.config.signingSecret, ip))),
    );
  });

  it('locks out one client after failed sign-ins without locking out another', async () => {
    const guesser = new StaffClient(t, { 'X-Forwarded-For': '203.0.113.10' });
    await lockOut(guesser);
    expect(await signInStatus(guesser, newsroom.token)).toBe(429);
    // A spoofed first entry does not make the guesser someone else.
    expect(await signInStatus(new StaffClient(t, { 'X-Forwarded-For': '192.0.2.99, 203.0.113.10' }), newsroom.token)).toBe(429);
    expect(await signInStatus(new StaffClient(t, { 'X-Forwarded-For': '203.0.113.11' }), newsroom.token)).toBe(303);
  });

  it('holds a lockout on every web machine: the failures are counted in the database', async () => {
    // A second web machine: another app on the same database (and a process of its own in tests/fleet.test.ts).
    const other = { ...t, app: buildApp(t.ctx) };
    const guesser = { 'X-Forwarded-For': '203.0.113.12' };
    const here = new StaffClient(t, guesser);
    const there = new StaffClient(other, guesser);
    await here.get('/admin/sign-in');
    await there.get('/admin/sign-in');
    // Half the failures through each machine: neither alone would lock the guesser out.
    for (let i = 0; i < FAILURES_TO_LOCK; i++) expect((await (i % 2 ? there : here).post('/admin/sign-in', { token: `wrong-${i}` })).status).toBe(401);
    expect(await signInStatus(new StaffClient(other, guesser), newsroom.token)).toBe(429);
    expect(await signInStatus(new StaffClient(t, guesser), newsroom.token)).toBe(429);
    // Kept as a keyed hash: the table holds no address.
    const rows = await t.ctx.db.selectFrom('sign_in_failures').select('address_hash').execute();
    expect(rows.length).toBeGreaterThanOrEqual(FAILURES_TO_LOCK);
    expect(rows.some((r) => r.address_hash.includes('203.0.113'))).toBe(false);
  });

  it('records the consent with the client’s address, not the proxy’s', async () => {
    const email = address('consent');
    expect(await subscribeAsked(t, newsroom.slug, email, '203.0.113.20')).toBe(true);
    // The mail worker would make the token when sending; here the test does.
    const { token, hash } = newConfirmationToken();
    await t.ctx.db
      .updateTable('subscription_confirmations')
      .set({ token_hash: hash, sent_at: new Date().toISOString(), expires_at: new Date(Date.now() + 3_600_000).toISOString() })
      .where('subscriber_id', 'in', (eb) => eb.selectFrom('subscribers').select('id').where('email_key', '=', email))
      .execute();
    await t.http.post(`/subscriptions/confirm/${token}`).set('X-Forwarded-For', '203.0.113.21').expect(200);
    const row = await t.ctx.db.selectFrom('subscribers').select(['status', 'consent_ip']).where('email_key', '=', email).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'confirmed', consent_ip: '203.0.113.21' });
  });
});

describe('with TRUST_PROXY naming another proxy', () => {
  it('ignores X-Forwarded-For from a hop that is not that proxy', async () => {
    await withApp({ TRUST_PROXY: '10.9.8.7' }, async (t, newsroom) => {
      for (let i = 0; i < PER_IP_PER_HOUR; i++) {
        expect(await subscribeAsked(t, newsroom.slug, address('spoof'), `198.51.100.${i}`)).toBe(true);
      }
      expect(await subscribeAsked(t, newsroom.slug, address('spoof'), '198.51.100.200')).toBe(false);
      const hashes = await t.ctx.db.selectFrom('subscription_confirmations').select('ip_hash').distinct().execute();
      expect(hashes).toHaveLength(1);
    });
  });
});
