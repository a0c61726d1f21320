import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { createSmtpPool, type SmtpPool } from '../src/lib/smtp-pool.js';
import { type SmtpSink, startSmtpSink } from './support/smtp.js';

/*
 * The delivery's SMTP pool against a real SMTP server: its connections, what a refusal
 * does to them, and the order in which waiting messages get one.
 */

const message = (n: number) => Buffer.from(`From: news@example.test\r\nTo: r${n}@example.org\r\nSubject: ${n}\r\n\r\nBody ${n}\r\n`);
const envelope = (to: string) => ({ from: 'news@example.test', to });

let sink: SmtpSink;
let pool: SmtpPool | undefined;
const open = (size: number) => (pool = createSmtpPool({ url: sink.url, size, connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 5000 }));

beforeEach(async () => {
  sink = await startSmtpSink();
});
afterEach(async () => {
  pool?.close();
  pool = undefined;
  await sink.close();
});

it('sends over at most its size of connections, opened once, the rest waiting their turn', async () => {
  const smtp = open(2);
  const replies = await Promise.all(Array.from({ length: 10 }, (_, n) => smtp.send(envelope(`r${n}@example.org`), message(n))));
  expect(replies.every((r) => r.startsWith('250'))).toBe(true);
  expect(sink.received.map((m) => m.to).sort()).toEqual(Array.from({ length: 10 }, (_, n) => `r${n}@example.org`).sort());
  expect(sink.connections).toBe(2);
});

it('opens its connections ahead when warmed, and then none for the messages', async () => {
  const smtp = open(3);
  expect(await smtp.warm()).toBe(3);
  expect(await smtp.warm()).toBe(0);
  await Promise.all([1, 2, 3, 4].map((n) => smtp.send(envelope(`r${n}@example.org`), message(n))));
  expect(sink.connections).toBe(3);
});

it('fails a refused recipient with the reply and keeps the connection for the next message', async () => {
  sink.reply = (to) => (to === 'gone@example.org' ? { code: 550, message: 'No such user' } : undefined);
  const smtp = open(1);
  await expect(smtp.send(envelope('gone@example.org'), message(1))).rejects.toMatchObject({ responseCode: 550 });
  expect(await smtp.send(envelope('r2@example.org'), message(2))).toMatch(/^250/);
  expect(sink.received.map((m) => m.to)).toEqual(['r2@example.org']);
  expect(sink.connections).toBe(1);
});

it('drops a connection whose server is closing (421) and opens another for the next message', async () => {
  sink.reply = (to, attempt) => (to === 'busy@example.org' && attempt === 1 ? { code: 421, message: 'Too busy, closing' } : undefined);
  const smtp = open(1);
  await expect(smtp.send(envelope('busy@example.org'), message(1))).rejects.toMatchObject({ responseCode: 421 });
  expect(await smtp.send(envelope('busy@example.org'), message(2))).toMatch(/^250/);
  expect(sink.connections).toBe(2);
});

it('refuses what is still waiting when closed', async () => {
  sink.delayMs = 300;
  const smtp = open(1);
  const first = smtp.send(envelope('r1@example.org'), message(1));
  const waiting = smtp.send(envelope('r2@example.org'), message(2));
  await new Promise((resolve) => setTimeout(resolve, 50));
  smtp.close();
  await expect(waiting).rejects.toThrow(/closed/);
  await first.catch(() => undefined);
  expect(sink.received.map((m) => m.to)).not.toContain('r2@example.org');
});
