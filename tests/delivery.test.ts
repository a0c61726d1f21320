import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { recoverDeliveries, startDeliveryWorker } from '../src/delivery/worker.js';
import { healthListener } from '../src/health/server.js';
import type { RunningWorker } from '../src/lib/queue.js';
import { startPublicationWorker } from '../src/publication/worker.js';
import { startTestApp, type TestApp } from './support/app.js';
import { buildContact, buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type SmtpSink, startSmtpSink, until } from './support/smtp.js';
import { insertSubscribers, newsroomId } from './support/subscribers.js';

/*
 * Email delivery at publication, end to end: the real app and its workers, real Redis,
 * a real SMTP server in this process, the subscribers table as subscriptions leave it.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  t: TestApp;
  sink: SmtpSink;
  workers: RunningWorker[];
  close(): Promise<void>;
}

async function startDelivery(env: Record<string, string> = {}): Promise<Running> {
  const sink = await startSmtpSink();
  const t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM: 'news@example.test', ...env });
  const workers = [await startDeliveryWorker(t.ctx), await startPublicationWorker(t.ctx)];
  return {
    t,
    sink,
    workers,
    async close() {
      for (const w of workers) await w.close();
      await t.close();
      await sink.close();
    },
  };
}

const mailsTo = (sink: SmtpSink, address: string) => sink.received.filter((m) => m.to === address.toLowerCase());

async function publishNow(t: TestApp, newsroom: NewsroomFixture, release: Record<string, any>) {
  await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
}

async function report(t: TestApp, newsroom: NewsroomFixture, releaseId: string, query = '') {
  return (await t.http.get(`/api/releases/${releaseId}/deliveries${query}`).set(newsroom.auth).expect(200)).body;
}

describe('delivery at publication', () => {
  let r: Running;
  let newsroom: NewsroomFixture;
  let roomId: string;
  beforeAll(async () => {
    r = await startDelivery();
    newsroom = await buildNewsroom(r.t);
    roomId = await newsroomId(r.t.ctx.db, newsroom.slug);
  });
  afterAll(() => r.close());

  it('sends each confirmed subscriber one email in their language, with both parts and the list headers', async () => {
    const { t, sink } = r;
    const [sv, fi, en, , keyworded, elsewhere] = await insertSubscribers(t.ctx.db, roomId, [
      { email: 'Sven@Example.NET', languages: ['sv', 'fi'] },
      { languages: ['fi'] },
      { languages: ['en'] }, // the release has no English: its first language, Finnish
      { languages: ['sv'], status: 'pending' },
      { languages: ['sv'], keywords: ['KIRJASTO'] }, // the release carries "kirjasto" (in Finnish)
      { languages: ['fi'], keywords: ['urheilu'] },
    ]);
    const contact = await buildContact(t, newsroom);
    const release = await buildRelease(t, newsroom, { contactIds: [contact.id] });
    await publishNow(t, newsroom, release);

    expect(await until(() => sink.received.length >= 4)).toBe(true);
    await sleep(500); // anything more would be a duplicate or a wrong recipient
    expect(sink.received.map((m) => m.to).sort()).toEqual([sv!.email.toLowerCase(), fi!.email, en!.email, keyworded!.email].sort());
    expect(mailsTo(sink, elsewhere!.email)).toHaveLength(0);

    const toSven = mailsTo(sink, sv!.email)[0]!.mail;
    expect(toSven.subject).toBe('Nytt bibliotek öppnas');
    expect(mailsTo(sink, fi!.email)[0]!.mail.subject).toBe('Uusi kirjasto avataan');
    expect(mailsTo(sink, en!.email)[0]!.mail.subject).toBe('Uusi kirjasto avataan');
    expect(mailsTo(sink, keyworded!.email)[0]!.mail.subject).toBe('Nytt bibliotek öppnas');

    const header = (name: string) => toSven.headerLines.find((h) => h.key === name)?.line.replace(/\r?\n\s+/g, ' ') ?? '';
    const unsubscribeUrl = /^List-Unsubscribe: <(https:\/\/news\.example\.test\/unsubscribe\/[^>]+)>$/i.exec(header('list-unsubscribe'))?.[1];
    expect(unsubscribeUrl).toContain(sv!.id);
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(header('list-id')).toContain(`<${newsroom.slug}.news.example.test>`);
    expect(toSven.messageId).toMatch(/^<[0-9a-f-]+@news\.example\.test>$/);
    expect(toSven.date).toBeInstanceOf(Date);
    expect(toSven.from?.value[0]).toEqual({ name: 'Västra Exempel stad', address: 'news@example.test' });
    for (const part of [toSven.text!, toSven.html as string]) {
      expect(part).toContain('Nytt bibliotek öppnas');
      expect(part).toContain('Staden öppnar ett nytt bibliotek.');
      expect(part).toContain('Maija Meikäläinen');
      expect(part).toContain(unsubscribeUrl!);
      expect(part).toMatch(/subscriptions\/preferences\//);
      expect(part).toMatch(/Västra Exempel är en/);
      expect(part).toContain(`https://news.example.test/${newsroom.slug}/sv/${release.id}/`);
    }
    expect(toSven.html).toContain('<strong>på måndag</strong>');
    expect(toSven.text).toContain('Avsluta prenumerationen');
    // Each recipient's own links: another subscriber's email names another id.
    expect(mailsTo(sink, fi!.email)[0]!.mail.text).toContain(fi!.id);
    expect(mailsTo(sink, fi!.email)[0]!.mail.text).not.toContain(sv!.id);

    const body = await report(t, newsroom, release.id);
    expect(body).toMatchObject({ total: 4, queued: 0, sent: 4, failed: 0, skipped: 0 });
    expect(body.languages).toEqual({
      fi: { total: 2, queued: 0, sent: 2, failed: 0, skipped: 0, bounced: 0, complained: 0 },
      sv: { total: 2, queued: 0, sent: 2, failed: 0, skipped: 0, bounced: 0, complained: 0 },
    });
    expect(Date.parse(body.lastSentAt)).toBeGreaterThanOrEqual(Date.parse(body.firstSentAt));

    // Announcing again (the sweep, a repeated job) sends nothing more.
    const { completeDuePublications } = await import('../src/publication/worker.js');
    await completeDuePublications(t.ctx, release.id);
    await sleep(500);
    expect(sink.received.filter((m) => m.mail.subject === 'Nytt bibliotek öppnas' || m.mail.subject === 'Uusi kirjasto avataan')).toHaveLength(4);
  });

  it("attaches an invitation's event as event.ics (iCalendar, the newsroom's time zone), and nothing to other releases", async () => {
    const { t, sink } = r;
    const room = await buildNewsroom(t);
    const [reader] = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), [{ languages: ['sv'] }]);
    const invitation = await buildRelease(t, room, {
      type: 'invitation',
      event: { startsAt: '2030-01-14T10:00:00+02:00', endsAt: '2030-01-14T11:30:00+02:00', place: 'Stadshuset' },
    });
    await publishNow(t, room, invitation);
    const plain = await buildRelease(t, room, { translations: { sv: { title: 'Inget evenemang', lead: 'L.', body: 'B.' } }, keywords: {} });
    await publishNow(t, room, plain);
    expect(await until(() => mailsTo(sink, reader!.email).length >= 2)).toBe(true);

    const [withEvent, withoutEvent] = ['Nytt bibliotek öppnas', 'Inget evenemang'].map((subject) => mailsTo(sink, reader!.email).find((m) => m.mail.subject === subject)!.mail);
    expect(withoutEvent!.attachments).toEqual([]);
    expect(withEvent!.attachments).toHaveLength(1);
    const ics = withEvent!.attachments[0]!;
    expect(ics.filename).toBe('event.ics');
    expect(ics.contentType).toBe('text/calendar');
    const text = ics.content.toString('utf8');
    expect(text).toContain('BEGIN:VEVENT');
    expect(text).toContain('DTSTART;TZID=Europe/Helsinki:20300114T100000');
    expect(text).toContain('LOCATION:Stadshuset');
    expect(text).toContain(`UID:${invitation.id}`);
  });

  it('sends a scheduled release at its time, and at the new time after a reschedule; nothing once unscheduled', async () => {
    const { t, sink } = r;
    const room = await buildNewsroom(t);
    const [reader] = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), [{ languages: ['fi'] }]);
    const moved = await buildRelease(t, room, { translations: { fi: { title: 'Siirretty', body: 'x' } }, keywords: {} });
    const dropped = await buildRelease(t, room, { translations: { fi: { title: 'Peruttu', body: 'x' } }, keywords: {} });
    // Margins of seconds: a loaded machine must not see the old time pass before the move.
    const oldTime = Date.now() + 6000;
    const iso = (ms: number) => new Date(ms).toISOString();
    await t.http.post(`/api/releases/${moved.id}/schedule`).set(room.auth).send({ publishAt: iso(oldTime) }).expect(200);
    await t.http.post(`/api/releases/${dropped.id}/schedule`).set(room.auth).send({ publishAt: iso(oldTime) }).expect(200);
    const newTime = iso(oldTime + 6000);
    await t.http.post(`/api/releases/${moved.id}/schedule`).set(room.auth).send({ publishAt: newTime }).expect(200);
    await t.http.post(`/api/releases/${dropped.id}/unschedule`).set(room.auth).expect(200);

    await sleep(oldTime + 3000 - Date.now()); // past the old time, with a sweep or more in between
    expect(mailsTo(sink, reader!.email)).toHaveLength(0);
    expect(await until(() => mailsTo(sink, reader!.email).length > 0, 20_000)).toBe(true);
    const mail = mailsTo(sink, reader!.email)[0]!;
    expect(mail.mail.subject).toBe('Siirretty');
    expect(mail.at).toBeGreaterThanOrEqual(Date.parse(newTime));
    await sleep(2500);
    expect(mailsTo(sink, reader!.email).map((m) => m.mail.subject)).toEqual(['Siirretty']);
  }, 60_000);

  it('retries a temporary failure (451) and sends once; a permanent one (550) fails with its reply, unretried', async () => {
    const { t, sink } = r;
    const room = await buildNewsroom(t);
    const [busy, bouncing] = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), [
      { email: 'busy@example.net' },
      { email: 'nobody@example.net' },
    ]);
    sink.reply = (to, attempt) =>
      to === 'busy@example.net' && attempt === 1
        ? { code: 451, message: '4.3.0 Try again later' }
        : to === 'nobody@example.net'
          ? { code: 550, message: '5.1.1 No such user' }
          : undefined;
    const first = await buildRelease(t, room, { translations: { fi: { title: 'Ensimmäinen', body: 'x' } }, keywords: {} });
    await publishNow(t, room, first);

    expect(await until(() => mailsTo(sink, busy!.email).length === 1, 20_000)).toBe(true);
    expect(await until(async () => (await report(t, room, first.id)).failed === 1)).toBe(true);
    await sleep(1000);
    expect(mailsTo(sink, busy!.email)).toHaveLength(1);
    expect(sink.attempts.filter((a) => a === 'busy@example.net')).toHaveLength(2);
    expect(sink.attempts.filter((a) => a === 'nobody@example.net')).toHaveLength(1);
    const body = await report(t, room, first.id);
    expect(body).toMatchObject({ total: 2, sent: 1, failed: 1, queued: 0 });
    expect(body.failures.total).toBe(1);
    expect(body.failures.items).toEqual([
      expect.objectContaining({ subscriberId: bouncing!.id, email: 'nobody@example.net', smtpResponse: expect.stringMatching(/^550 .*No such user/), attempts: 1 }),
    ]);
    expect((await report(t, room, first.id, '?limit=1&offset=1')).failures.items).toEqual([]);
    const busyRow = await t.ctx.db.selectFrom('deliveries').selectAll().where('subscriber_id', '=', busy!.id).executeTakeFirstOrThrow();
    expect(busyRow).toMatchObject({ status: 'sent', attempts: 2, smtp_response: expect.stringMatching(/^250 /) });

    // A second permanent failure, on another release, suppresses the address.
    const second = await buildRelease(t, room, { translations: { fi: { title: 'Toinen', body: 'x' } }, keywords: {} });
    await publishNow(t, room, second);
    expect(await until(async () => (await report(t, room, second.id)).failed === 1)).toBe(true);
    const subscriber = await t.ctx.db.selectFrom('subscribers').selectAll().where('id', '=', bouncing!.id).executeTakeFirstOrThrow();
    expect(subscriber).toMatchObject({ status: 'unsubscribed', hard_bounces: 2 });
    const third = await buildRelease(t, room, { translations: { fi: { title: 'Kolmas', body: 'x' } }, keywords: {} });
    await publishNow(t, room, third);
    expect(await until(() => mailsTo(sink, busy!.email).length === 3)).toBe(true);
    expect((await report(t, room, third.id)).total).toBe(1);
    sink.reply = () => undefined;
  }, 40_000);

  it('stops the remaining deliveries of a release withdrawn mid-fan-out (skipped)', async () => {
    const { t, sink } = r;
    const room = await buildNewsroom(t);
    await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), Array.from({ length: 300 }, () => ({ languages: ['fi'] })));
    sink.delayMs = 30; // slow enough to withdraw while most are still queued
    const release = await buildRelease(t, room, { translations: { fi: { title: 'Vedetään pois', body: 'x' } }, keywords: {} });
    await publishNow(t, room, release);
    expect(await until(() => sink.received.some((m) => m.mail.subject === 'Vedetään pois'))).toBe(true);
    await t.http.post(`/api/releases/${release.id}/withdraw`).set(room.auth).expect(200);
    expect(await until(async () => {
      const b = await report(t, room, release.id);
      return b.queued === 0 && b.total === 300;
    }, 20_000)).toBe(true);
    sink.delayMs = 0;
    const body = await report(t, room, release.id);
    const received = sink.received.filter((m) => m.mail.subject === 'Vedetään pois').length;
    expect(body.skipped).toBeGreaterThan(100);
    expect(body.sent).toBe(received);
    expect(body.sent + body.skipped).toBe(300);
    await sleep(1000);
    expect(sink.received.filter((m) => m.mail.subject === 'Vedetään pois').length).toBe(received);
  }, 40_000);

  it("takes over a dead process's claims as soon as its liveness lapses (default claim timeout), and leaves a live one's", async () => {
    const { t, sink } = r;
    const room = await buildNewsroom(t);
    const [deadsReader, livesReader] = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), [{ languages: ['fi'] }, { languages: ['fi'] }]);
    const release = await buildRelease(t, room);
    await publishNow(t, room, release);
    expect(await until(() => mailsTo(sink, deadsReader!.email).length === 1 && mailsTo(sink, livesReader!.email).length === 1)).toBe(true);
    expect(t.ctx.config.deliveryClaimTimeoutMs).toBe(300_000);

    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    // Claims as two other processes would leave them.
    for (const [reader, owner] of [[deadsReader!, 'dead-process'], [livesReader!, 'live-process']] as const) {
      await t.ctx.db
        .updateTable('deliveries')
        .set({ status: 'sending', claimed_by: owner, claimed_at: ago(1000) })
        .where('release_id', '=', release.id)
        .where('subscriber_id', '=', reader.id)
        .execute();
    }
    // Two other processes: one stopped renewing 30 s ago, one alive (dated a minute ahead, so
    // that it stays alive however slowly this test runs). Rows after the claims: this
    // process's own liveness tick may take over as soon as they exist.
    await t.ctx.db
      .insertInto('worker_liveness')
      .values([
        { owner: 'dead-process', started_at: ago(60_000), renewed_at: ago(30_000) },
        { owner: 'live-process', started_at: ago(60_000), renewed_at: ago(-60_000) },
      ])
      .execute();
    await recoverDeliveries(t.ctx, false);
    expect(await until(() => mailsTo(sink, deadsReader!.email).length === 2)).toBe(true);
    const states = await t.ctx.db.selectFrom('deliveries').select(['subscriber_id', 'status', 'claimed_by']).where('release_id', '=', release.id).execute();
    expect(states.find((d) => d.subscriber_id === livesReader!.id)).toMatchObject({ status: 'sending', claimed_by: 'live-process' });
    expect(await until(async () => (await report(t, room, release.id)).sent === 1)).toBe(true);
    expect(mailsTo(sink, livesReader!.email)).toHaveLength(1);
    const owners = (await t.ctx.db.selectFrom('worker_liveness').select('owner').execute()).map((o) => o.owner);
    expect(owners).toContain('live-process');
    expect(owners).not.toContain('dead-process');
    await t.ctx.db.deleteFrom('worker_liveness').where('owner', '=', 'live-process').execute();
  }, 40_000);

  it('answers /metrics in Prometheus format to the admin token, and on the health port; shows the queue dashboard to the admin token only', async () => {
    const { t } = r;
    const expectMetrics = (contentType: string | null | undefined, text: string) => {
      expect(contentType).toMatch(/^text\/plain/);
      expect(text).toMatch(/^newsroom_emails_sent_total \d+/m);
      expect(text).toMatch(/^newsroom_deliveries\{status="sent"\} [1-9]\d*/m);
      expect(text).toMatch(/^newsroom_queue_jobs\{queue="(delivery|publication)",state="delayed"\} \d+/m);
      expect(text).toMatch(/^newsroom_last_release_send_seconds\{which="last"\} [\d.]+/m);
    };
    // The public port: how many releases wait for their time, and the runtime, are nobody else's business.
    const anonymous = await t.http.get('/metrics').expect(401);
    expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(anonymous.text).not.toContain('newsroom_');
    await t.http.get('/metrics').set(newsroom.auth).expect(403);
    const metrics = await t.http.get('/metrics').set(t.admin).expect(200);
    expectMetrics(metrics.headers['content-type'], metrics.text);
    expect(metrics.headers['cache-control']).toBe('no-store');

    // The health port, for a scraper on the machines' own network: no token.
    const health = createServer(healthListener(t.ctx, { role: 'all', alive: () => true }));
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
    try {
      const scraped = await fetch(`http://127.0.0.1:${(health.address() as AddressInfo).port}/metrics`);
      expect(scraped.status).toBe(200);
      expectMetrics(scraped.headers.get('content-type'), await scraped.text());
    } finally {
      await new Promise((resolve) => health.close(resolve));
    }

    await t.http.get('/admin/queues').expect(401);
    await t.http.get('/admin/queues').set(newsroom.auth).expect(403);
    const board = await t.http.get('/admin/queues/api/queues').set(t.admin).expect(200);
    expect(JSON.stringify(board.body)).toContain('delivery');
  });
});

describe('when Redis is flushed just before publishAt', () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  let redis: ChildProcess;
  let r: Running;
  beforeAll(async () => {
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await sleep(300);
    r = await startDelivery({ REDIS_URL: `redis://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await r.close();
    redis.kill('SIGKILL');
  });

  it('still sends the first email within 10 s of publishAt, and everyone gets one', async () => {
    const { t, sink } = r;
    const room = await buildNewsroom(t);
    const readers = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), Array.from({ length: 20 }, (_, i) => ({ languages: [i % 2 ? 'fi' : 'sv'] })));
    const release = await buildRelease(t, room);
    const publishAt = Date.now() + 2500;
    await t.http.post(`/api/releases/${release.id}/schedule`).set(room.auth).send({ publishAt: new Date(publishAt).toISOString() }).expect(200);
    await sleep(1500);
    const admin = new Redis(`redis://127.0.0.1:${port}`);
    await admin.flushall();
    admin.disconnect();

    expect(await until(() => sink.received.length === readers.length, 15_000)).toBe(true);
    const first = Math.min(...sink.received.map((m) => m.at));
    console.log(`Redis flushed 1 s before publishAt: first email ${first - publishAt} ms after publishAt`);
    expect(first - publishAt).toBeLessThan(10_000);
    expect(first).toBeGreaterThanOrEqual(publishAt);
    await sleep(1000);
    expect(new Set(sink.received.map((m) => m.to)).size).toBe(readers.length);
    expect(sink.received).toHaveLength(readers.length);
  }, 30_000);
});

describe('with a send rate (SEND_RATE_PER_SECOND)', () => {
  let r: Running;
  beforeAll(async () => {
    r = await startDelivery({ SEND_RATE_PER_SECOND: '10' });
  });
  afterAll(() => r.close());

  it('keeps to it from the first email: the first page goes by the rate-limited queue too', async () => {
    const { t, sink } = r;
    const room = await buildNewsroom(t);
    const readers = await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), Array.from({ length: 30 }, () => ({ languages: ['fi'] })));
    const release = await buildRelease(t, room);
    await publishNow(t, room, release);
    expect(await until(() => sink.received.length === readers.length, 20_000)).toBe(true);
    const times = sink.received.map((m) => m.at).sort((a, b) => a - b);
    // 10 a second: jobs of 10, one a second. A burst would put all 30 within a few milliseconds.
    expect(times.filter((at) => at < times[0]! + 800)).toHaveLength(10);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1500);
  }, 30_000);
});

describe('with DKIM configured', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const selector = 'news2026';
  const domain = 'example.test';
  // The public key as the domain would publish it in DNS, served to the verifier directly.
  const dnsName = `${selector}._domainkey.${domain}`;
  const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
  const resolver = async (name: string, type: string) => {
    if (name === dnsName && type === 'TXT') return [[record]];
    throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
  };
  let r: Running;
  beforeAll(async () => {
    r = await startDelivery({
      // Given on one line with \n, as an environment variable carries it.
      DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n'),
      DKIM_SELECTOR: selector,
      DKIM_DOMAIN: domain,
    });
  });
  afterAll(() => r.close());

  it('signs each release email so that a receiver verifies it, the one-click unsubscribe headers included', async () => {
    const { t, sink } = r;
    const room = await buildNewsroom(t);
    await insertSubscribers(t.ctx.db, await newsroomId(t.ctx.db, room.slug), [{ languages: ['fi'] }, { languages: ['sv'] }]);
    const release = await buildRelease(t, room);
    await publishNow(t, room, release);
    expect(await until(() => sink.received.length === 2)).toBe(true);

    for (const { raw } of sink.received) {
      const { results } = await dkimVerify(raw, { resolver });
      expect(results).toHaveLength(1);
      const [signature] = results;
      expect(signature!.status.result).toBe('pass');
      expect(signature!.signingDomain).toBe(domain);
      expect(signature!.selector).toBe(selector);
      // The signed header names (the h= tag): documented by mailauth, missing from its types.
      const signed = (signature as unknown as { signingHeaders: { keys: string } }).signingHeaders.keys;
      expect(signed.toLowerCase().split(/\s*:\s*/)).toEqual(
        expect.arrayContaining(['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post']),
      );
      // A changed body no longer verifies: the signature covers what the subscriber reads.
      const tampered = Buffer.from(raw.toString('utf8').replace(/\r?\n\r?\n/, (gap) => `${gap}X`));
      expect((await dkimVerify(tampered, { resolver })).results[0]!.status.result).not.toBe('pass');
    }
  });
});
