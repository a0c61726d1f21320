/*
 * A bare nodemailer pool in a process of its own, as the worker is in bench/fanout.ts: the
 * baselines there. Sends `count` messages to the sink, `pool` connections, and prints its
 * rate as JSON. `composed`: nodemailer builds each message from the options in `message`
 * (a JSON file); `raw`: the same ready bytes (the file) to every address, DKIM-signed
 * when a key is given; `connections`: the same bytes through the service's own SMTP pool.
 *
 *   node --import tsx bench/bare-pool.ts '{"sinkUrl":"smtp://...","pool":5,"count":1000,"mode":"raw","message":"/tmp/m.eml","from":"a@b"}'
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { createSmtpPool } from '../src/lib/smtp-pool.js';

interface Settings {
  sinkUrl: string;
  pool: number;
  count: number;
  mode: 'composed' | 'raw' | 'connections';
  message: string;
  from: string;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

const settings = JSON.parse(process.argv[2]!) as Settings;
const transport = nodemailer.createTransport({
  url: settings.sinkUrl,
  pool: true,
  maxConnections: settings.pool,
  maxMessages: Infinity,
  ...(settings.dkim ? { dkim: settings.dkim } : {}),
} as never);
const bytes = readFileSync(settings.message);
const options = settings.mode === 'composed' ? (JSON.parse(bytes.toString('utf8')) as SendMailOptions) : undefined;
const send = (i: number) =>
  options
    ? transport.sendMail({ ...options, to: `bare${i}@bench.example`, messageId: `<${randomUUID()}@news.example.test>` })
    : transport.sendMail({ raw: bytes, envelope: { from: settings.from, to: `bare${i}@bench.example` } });

// The service's own pool (src/lib/smtp-pool.ts): nodemailer's SMTP connections without its transport.
const connections = settings.mode === 'connections' ? createSmtpPool({ url: settings.sinkUrl, size: settings.pool, connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 }) : undefined;

const start = Date.now();
await Promise.all(
  Array.from({ length: settings.count }, (_, i) => (connections ? connections.send({ from: settings.from, to: `bare${i}@bench.example` }, bytes) : send(i))),
);
connections?.close();
console.log(JSON.stringify({ rate: settings.count / ((Date.now() - start) / 1000) }));
transport.close();
