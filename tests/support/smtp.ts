import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/*
 * A real SMTP server in the test process. It keeps every message it accepts (parsed) and
 * every RCPT it was offered; `reply` decides per recipient and attempt what it answers.
 */

export interface ReceivedMail {
  to: string;
  at: number;
  mail: ParsedMail;
  /** The message as it came over the wire (what a DKIM verifier reads). */
  raw: Buffer;
  /** The envelope sender (MAIL FROM), where bounces go. */
  mailFrom: string;
}

export type Reply = { code: number; message: string } | undefined;

export interface SmtpSink {
  url: string;
  port: number;
  received: ReceivedMail[];
  /** Every RCPT TO offered, accepted or not, in order. */
  attempts: string[];
  /** How many messages each address was sent (accepted). */
  perRecipient: Map<string, number>;
  reply: (to: string, attempt: number) => Reply;
  /** Milliseconds the server waits before accepting a message's data. */
  delayMs: number;
  /** Parse messages (tests) or only count them (benchmarks). */
  parse: boolean;
  count: number;
  /** SMTP sessions opened by clients. */
  connections: number;
  firstAt?: number;
  lastAt?: number;
  /** When the first message to each recipient domain arrived (benchmarks: a domain per newsroom). */
  firstAtByDomain: Map<string, number>;
  close(): Promise<void>;
}

export async function startSmtpSink(options: { parse?: boolean } = {}): Promise<SmtpSink> {
  const sink: SmtpSink = {
    url: '',
    port: 0,
    received: [],
    attempts: [],
    perRecipient: new Map(),
    reply: () => undefined,
    delayMs: 0,
    parse: options.parse ?? true,
    count: 0,
    connections: 0,
    firstAtByDomain: new Map(),
    close: async () => undefined,
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 50 * 1024 * 1024,
    onConnect(_session, callback) {
      sink.connections++;
      callback();
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      const attempt = sink.attempts.filter((a) => a === to).length + 1;
      if (sink.parse) sink.attempts.push(to);
      const answer = sink.reply(to, attempt);
      if (answer) return callback(Object.assign(new Error(answer.message), { responseCode: answer.code }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const at = Date.now();
        if (sink.delayMs) await new Promise((r) => setTimeout(r, sink.delayMs));
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        sink.count += to.length;
        for (const address of to) {
          sink.perRecipient.set(address, (sink.perRecipient.get(address) ?? 0) + 1);
          const domain = address.slice(address.lastIndexOf('@') + 1);
          if (!sink.firstAtByDomain.has(domain)) sink.firstAtByDomain.set(domain, at);
        }
        sink.firstAt ??= at;
        sink.lastAt = at;
        if (sink.parse) {
          const raw = Buffer.concat(chunks);
          const mail = await simpleParser(raw);
          const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          for (const address of to) sink.received.push({ to: address, at, mail, raw, mailFrom });
        }
        callback(null, 'Ok: queued');
      });
    },
  });
  // A client killed mid-session resets its connection: that is the test's doing, not a failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.url = `smtp://127.0.0.1:${sink.port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

/** Polls until `probe` holds or the time is up; returns whether it held. */
export async function until(probe: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
