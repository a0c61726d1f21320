import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import DKIM from 'nodemailer/lib/dkim';
import { createSmtpPool, type SmtpEnvelope } from './smtp-pool.js';

/*
 * Outgoing email, once for every component: pooled SMTP when SMTP_URL is set, else each
 * message is written as an .eml file under OUTBOX_DIR (what a developer opens in a mail
 * client). The SMTP reply comes back so that deliveries can record it.
 */
export interface SentMail {
  messageId: string;
  /** The server's reply, e.g. "250 2.0.0 Ok: queued as ...", or the .eml file written. */
  response: string;
}

/** A message already built (MIME bytes), with its envelope; its Message-ID is known to the caller. */
export interface RawMail {
  raw: Buffer;
  envelope: { from: string; to: string };
  messageId: string;
}

export interface Mailer {
  send(message: SendMailOptions): Promise<SentMail>;
  /** Sends ready bytes: nothing is composed; DKIM (when set) signs them as they are. */
  sendRaw(message: RawMail): Promise<SentMail>;
  /** Opens the SMTP pool's connections ahead of a burst (a release due); returns how many were opened. */
  warm(): Promise<number>;
  close(): void;
}

export interface MailerSettings {
  smtpUrl: string | undefined;
  outboxDir: string;
  /** SMTP connections kept open. */
  poolSize?: number;
  /** Signs every message when given; the list headers are signed too (RFC 8058 asks for it). */
  dkim?: { privateKey: string; selector: string; domain: string };
}

/** Headers DKIM signs: nodemailer's usual set plus the one-click unsubscribe pair. */
const DKIM_SIGNED_HEADERS = [
  'From', 'Sender', 'Reply-To', 'Subject', 'Date', 'Message-ID', 'To', 'Cc', 'MIME-Version',
  'Content-Type', 'Content-Transfer-Encoding', 'List-Id', 'List-Unsubscribe', 'List-Unsubscribe-Post',
].join(':');

/** nodemailer's dkim option for the settings, if any. */
export const dkimOptions = (dkim: MailerSettings['dkim']) =>
  dkim && { domainName: dkim.domain, keySelector: dkim.selector, privateKey: dkim.privateKey, headerFieldNames: DKIM_SIGNED_HEADERS };

/**
 * Text for a MIME header, the one place it is made so: one line, whatever was stored. A
 * line break or control character in a name (older data; the schemas refuse them now)
 * would otherwise travel encoded (=0D=0A), which strict parsers reject. Nodemailer
 * itself encodes and quotes what remains.
 */
export const headerText = (text: string) => text.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').replace(/ {2,}/g, ' ').trim();

/** The message with its free-text headers (subject, display names, the List-Id comment) made one line. */
export function withHeaderText(message: SendMailOptions): SendMailOptions {
  const { subject, from, list } = message;
  const listId = list?.id;
  return {
    ...message,
    ...(typeof subject === 'string' ? { subject: headerText(subject) } : {}),
    ...(from && typeof from === 'object' && !Array.isArray(from) && from.name ? { from: { ...from, name: headerText(from.name) } } : {}),
    ...(listId && typeof listId === 'object' && !Array.isArray(listId) && listId.comment
      ? { list: { ...list, id: { ...listId, comment: headerText(listId.comment) } } }
      : {}),
  };
}

/**
 * A failed send is permanent when the server answered 5xx: retrying cannot help. Any
 * other failure (4xx, connection lost, timeout) may pass later.
 */
export function isPermanentFailure(error: unknown): boolean {
  const code = (error as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** The server's reply to a failed send, or the error's message when there was none. */
export const failureReply = (error: unknown): string =>
  (error as { response?: string }).response ?? (error as Error).message ?? String(error);

export function createMailer(settings: MailerSettings): Mailer {
  const dkim = dkimOptions(settings.dkim);
  if (settings.smtpUrl) {
    const pool = createSmtpPool({
      url: settings.smtpUrl,
      size: settings.poolSize ?? 5,
      // A stalled server must not hold a delivery's claim for nodemailer's default ten minutes.
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
    });
    // Other emails (confirmations, notices) are composed by nodemailer and go through the same pool.
    const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, ...(dkim ? { dkim } : {}) } as never);
    const signer = dkim && new DKIM(dkim);
    return {
      async send(message) {
        const info = await composer.sendMail(withHeaderText(message));
        return { messageId: info.messageId, response: await pool.send(info.envelope as SmtpEnvelope, info.message as Buffer) };
      },
      async sendRaw({ raw, envelope, messageId }) {
        return { messageId, response: await pool.send(envelope, signer ? signer.sign(raw) : raw) };
      },
      warm: () => pool.warm(),
      close: () => pool.close(),
    };
  }

  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix', ...(dkim ? { dkim } : {}) } as never);
  const writeOut = async (message: Buffer) => {
    await mkdir(settings.outboxDir, { recursive: true });
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`;
    const file = path.join(settings.outboxDir, name);
    // Written aside, then renamed: whoever watches the folder never reads half a message.
    await writeFile(`${file}.part`, message);
    await rename(`${file}.part`, file);
    return `written to ${file}`;
  };
  return {
    async send(message) {
      const info = await transport.sendMail(withHeaderText(message));
      return { messageId: info.messageId, response: await writeOut(info.message as Buffer) };
    },
    async sendRaw({ raw, envelope, messageId }) {
      const info = await transport.sendMail({ raw, envelope });
      return { messageId, response: await writeOut(info.message as Buffer) };
    },
    // Files need no connection.
    warm: async () => 0,
    close: () => transport.close(),
  };
}
