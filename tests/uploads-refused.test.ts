/*
 * Issue 14, "a refused upload gets no answer": a body over its limit is answered with a
 * 413 that the client reads, whether its size was declared (refused before the body,
 * and before `100 Continue`) or found on the way (Connection: close, then the rest read
 * and dropped for a bounded while). The client here writes its whole body before it
 * reads anything, as simple clients do: closing on it would reset the connection and
 * lose the answer. The service runs with the limits a user gets (UPLOAD_MAX_MB 50).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { formatSize } from '../src/lib/i18n.js';
import { LOGO_MAX_BYTES } from '../src/newsrooms/logo.js';
import { INVITE_CSV_MAX_BYTES } from '../src/subscriptions/csv.js';
import { createWebServer } from '../src/lib/bodies.js';
import { JSON_LIMIT } from '../src/lib/routes.js';
import { startTestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { type RawRequest, sendRaw } from './support/raw-http.js';
import { StaffClient } from './support/staff.js';

const MB = 1024 * 1024;
const t = await startTestApp();
let server: Server;
let port: number;
let newsroom: NewsroomFixture;
let releaseId: string;

beforeAll(async () => {
  server = createWebServer(t.app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
  newsroom = await buildNewsroom(t);
  releaseId = (await buildRelease(t, newsroom)).id;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await t.close();
});

const boundary = 'raw-boundary';
/** A multipart upload of `bytes` bytes in the field `file`, after the fields of `fields`. */
const upload = (path: string, bytes: number, headers: Record<string, string>, extra: Partial<RawRequest> = {}, fields: Record<string, string> = {}): RawRequest => ({
  path,
  headers: { ...headers, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
  head:
    Object.entries(fields)
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n`,
  filler: bytes,
  tail: `\r\n--${boundary}--\r\n`,
  ...extra,
});

const expect413 = (answer: Awaited<ReturnType<typeof sendRaw>>, contentType = 'application/problem+json') => {
  expect({ status: answer.status, connection: answer.headers.connection, type: answer.headers['content-type']?.split(';')[0] }).toEqual({
    status: 413,
    connection: 'close',
    type: contentType,
  });
};

describe('an attachment over UPLOAD_MAX_MB', () => {
  it('declared by Content-Length: answered 413 before the body, and the answer read after all 60 MB were sent', async () => {
    const answer = await sendRaw(port, upload(`/api/releases/${releaseId}/attachments`, 60 * MB, newsroom.auth));
    expect413(answer);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 413, detail: `The upload is larger than the limit of ${t.ctx.config.uploadMaxBytes} bytes.` });
    expect(answer.sent).toBeGreaterThanOrEqual(60 * MB);
  });

  it('sent in chunks: answered 413 when the limit is passed, and read after the rest was sent', async () => {
    const answer = await sendRaw(port, upload(`/api/releases/${releaseId}/attachments`, 60 * MB, newsroom.auth, { chunked: true }));
    expect413(answer);
    expect(answer.error).toBeUndefined();
  });

  it('with Expect: 100-continue: 413 instead of 100 Continue, and no body sent', async () => {
    const answer = await sendRaw(port, upload(`/api/releases/${releaseId}/attachments`, 60 * MB, newsroom.auth, { expectContinue: true }));
    expect(answer.interim).toEqual([]);
    expect413(answer);
    expect(answer.sent).toBe(0);
  });

  it('with Expect: 100-continue, a body within the limit is asked for (100 Continue) and taken', async () => {
    const answer = await sendRaw(port, upload(`/api/releases/${releaseId}/attachments`, 1024, newsroom.auth, { expectContinue: true }));
    expect([answer.interim, answer.status]).toEqual([[100], 201]);
  });

  it('is not asked for before the token is checked', async () => {
    const answer = await sendRaw(port, upload(`/api/releases/${releaseId}/attachments`, 1024, {}, { expectContinue: true }));
    expect([answer.interim, answer.status, answer.sent]).toEqual([[], 401, 0]);
  });
});

describe('the other bodies refused for their size', () => {
  it(`a logo over ${LOGO_MAX_BYTES / MB} MB`, async () => {
    const answer = await sendRaw(port, upload(`/api/newsrooms/${newsroom.slug}/logo`, LOGO_MAX_BYTES + MB, newsroom.auth, { method: 'PUT' }));
    expect413(answer);
  });

  it(`a JSON body over ${JSON_LIMIT / MB} MB, declared or sent in chunks`, async () => {
    const json = (chunked: boolean): RawRequest => ({
      path: `/api/newsrooms/${newsroom.slug}/releases`,
      headers: { ...newsroom.auth, 'Content-Type': 'application/json' },
      head: '{"translations":{"fi":{"title":"x","body":"',
      filler: JSON_LIMIT + MB,
      tail: '"}}}',
      chunked,
    });
    expect413(await sendRaw(port, json(false)));
    expect413(await sendRaw(port, json(true)));
  });

  it('a staff sign-in form of 1 MB', async () => {
    const answer = await sendRaw(port, {
      path: '/admin/sign-in',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      head: 'token=',
      filler: MB,
    });
    expect413(answer, 'text/html');
  });

  it('a subscriber list over 5 MB in the staff app, sent in chunks: the page says why', async () => {
    const staff = new StaffClient(t);
    await staff.signIn(newsroom.token);
    await staff.get('/admin/subscribers');
    const answer = await sendRaw(
      port,
      upload('/admin/subscribers/import', 6 * MB, { Cookie: staff.cookieHeader }, { chunked: true }, { _csrf: staff.csrf }),
    );
    expect413(answer, 'text/html');
    expect(answer.body).toContain(`the file is too large (at most ${formatSize('en', INVITE_CSV_MAX_BYTES)})`);
  });
});
