import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HtmlValidate } from 'html-validate';
import { handleReturnedMessage } from '../src/bounces/process.js';
import { t as say } from '../src/lib/i18n.js';
import { ADMIN_TOKEN } from './support/app.js';
import { fixture, publishTo, type Running, start } from './support/bounces.js';
import { buildNewsroom } from './support/factories.js';
import { StaffClient } from './support/staff.js';
import { insertSubscribers, type SubscriberFixture } from './support/subscribers.js';

/*
 * What staff see of bounces: the release's delivery report lists its bounces and
 * complaints with their reason, the subscribers view each address's history, and the
 * service admin the returned messages that named no delivery or could not be read,
 * as escaped text. Returned messages come in as the receiver hands them on (real DSN,
 * ARF and auto-reply shapes), after a real release was sent.
 */

const validator = new HtmlValidate({ extends: ['html-validate:recommended'], rules: { 'no-trailing-whitespace': 'off' } });
async function expectValidHtml(html: string) {
  const report = await validator.validateString(html);
  expect(report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId} ${m.line}:${m.column} ${m.message}`))).toEqual([]);
}

let r: Running;
let bouncing: SubscriberFixture;
let complaining: SubscriberFixture;
let releaseId: string;
const hostileSubject = 'Auto: <b>out of office</b>';

beforeAll(async () => {
  r = await start({ BOUNCE_DOMAIN: 'bounces.example.test' });
  [bouncing, complaining] = await insertSubscribers(r.t.ctx.db, r.roomId, [{ languages: ['fi'] }, { languages: ['fi'] }]) as [SubscriberFixture, SubscriberFixture];
  const { release, deliveries } = await publishTo(r, [bouncing, complaining]);
  releaseId = release.id;
  const values = (s: SubscriberFixture) => ({
    returnPath: r.sink.received.find((m) => m.to === s.email.toLowerCase())!.mailFrom,
    recipient: s.email,
    messageId: deliveries.find((d) => d.subscriber_id === s.id)!.message_id!,
  });
  const hostile = fixture('postfix-user-unknown.eml', values(bouncing)).replace('User unknown in virtual mailbox table', 'User unknown <img src=x onerror=alert(1)>');
  expect(await handleReturnedMessage(r.t.ctx, 'smtp', Buffer.from(hostile), [values(bouncing).returnPath])).toBe('recorded');
  expect(await handleReturnedMessage(r.t.ctx, 'imap', Buffer.from(fixture('arf-complaint.eml', values(complaining))))).toBe('recorded');
  const autoReply = `From: Reader <someone@example.org>\r\nTo: bounce@bounces.example.test\r\nSubject: ${hostileSubject}\r\nContent-Type: text/html\r\n\r\n<p>I am away.</p><script>alert(1)</script>\r\n`;
  expect(await handleReturnedMessage(r.t.ctx, 'smtp', Buffer.from(autoReply))).toBe('unclassified');
});
afterAll(() => r.close());

const staffOf = async (token: string, lang = 'en') => {
  const staff = new StaffClient(r.t);
  await staff.signIn(token);
  await staff.get(`/admin/releases?lang=${lang}`);
  return staff;
};

describe('bounces in the staff app', () => {
  it('the delivery report lists the release\'s bounces and complaints with their reason, escaped', async () => {
    const staff = await staffOf(r.newsroom.token);
    const html = (await staff.get(`/admin/releases/${releaseId}/deliveries`).then((res) => res.text));
    expect(html).toContain(say('en', 'admin.bounces.ofRelease'));
    expect(html).toContain(bouncing.email);
    expect(html).toContain(say('en', 'admin.bounces.outcome.permanent'));
    expect(html).toContain('User unknown &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).toContain(complaining.email);
    expect(html).toContain(say('en', 'admin.bounces.outcome.complaint'));
  });

  it('the subscribers view links each address to its bounce history, in every language, to its own newsroom only', async () => {
    for (const lang of ['en', 'fi', 'sv']) {
      const staff = await staffOf(r.newsroom.token, lang);
      const list = (await staff.get('/admin/subscribers')).text;
      expect(list).toContain(`href="/admin/subscribers/${bouncing.id}/bounces"`);
      expect(list).toContain(say(lang, 'admin.subscribers.colBounces'));
      const res = await staff.get(`/admin/subscribers/${bouncing.id}/bounces`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(say(lang, 'admin.bounces.historyCaption', { email: bouncing.email }));
      expect(res.text).toContain(say(lang, 'admin.bounces.outcome.permanent'));
      expect(res.text).toContain('5.1.1');
      expect(res.text).toContain(`href="/admin/releases/${releaseId}"`);
      await expectValidHtml(res.text);
    }
    const other = await buildNewsroom(r.t);
    const stranger = await staffOf(other.token);
    expect((await stranger.get(`/admin/subscribers/${bouncing.id}/bounces`)).status).toBe(404);
  });

  it('the service admin sees what named no delivery or was no report, as escaped text; newsroom staff do not', async () => {
    const staff = await staffOf(r.newsroom.token);
    expect((await staff.get('/admin/bounces')).status).toBe(403);
    const admin = await staffOf(ADMIN_TOKEN);
    const res = await admin.get('/admin/bounces');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Auto: &lt;b&gt;out of office&lt;/b&gt;');
    expect(res.text).toContain('&lt;p&gt;I am away.&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).toContain(say('en', 'admin.bounces.outcome.unclassified'));
    expect(res.text).toContain('href="/admin/bounces"');
    await expectValidHtml(res.text);
  });
});
