import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';

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

export interface Mailer {
  send(message: SendMailOptions): Promise<SentMail>;
  close(): void;
}

export interface MailerSettings {
  smtpUrl: string | undefined;
  outboxDir: string;
  /** SMTP connections kept open. */
  poolSize?: number;
}

export function createMailer(settings: MailerSettings): Mailer {
  if (settings.smtpUrl) {
    const transport = nodemailer.createTransport({
      url: settings.smtpUrl,
      pool: true,
      maxConnections: settings.poolSize ?? 5,
    } as never);
    return {
      async send(message) {
        const info = await transport.sendMail(message);
        return { messageId: info.messageId, response: info.response };
      },
      close: () => transport.close(),
    };
  }

  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(message) {
      const info = await transport.sendMail(message);
      await mkdir(settings.outboxDir, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`;
      const file = path.join(settings.outboxDir, name);
      // Written aside, then renamed: whoever watches the folder never reads half a message.
      await writeFile(`${file}.part`, info.message as Buffer);
      await rename(`${file}.part`, file);
      return { messageId: info.messageId, response: `written to ${file}` };
    },
    close: () => transport.close(),
  };
}
