import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { parseConnectionUrl } from 'nodemailer/lib/shared';

/*
 * A pool of SMTP connections for ready messages: nodemailer's own SMTPConnection (the
 * protocol, TLS, AUTH, PIPELINING, dot-stuffing), each sending one message at a time,
 * and nothing else. nodemailer's transport pool builds a MIME tree, a Message-ID and a
 * stream chain for every message, raw or not, which at a release's fan-out costs as much
 * CPU as the sending itself (measured: twice the messages per second through the same
 * connections); it also opens a connection only when a message waits, whereas a
 * release due soon wants them open ahead (`warm`).
 */

export interface SmtpEnvelope {
  from: string;
  to: string | string[];
}

export interface SmtpPool {
  /** Sends one message; resolves with the server's reply, rejects with nodemailer's error (responseCode, response). */
  send(envelope: SmtpEnvelope, message: Buffer | Readable): Promise<string>;
  /** Opens the missing connections now; resolves with how many were opened. */
  warm(): Promise<number>;
  close(): void;
}

export interface SmtpPoolSettings {
  url: string;
  size: number;
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
}

type Auth = { user: string; pass: string };

export function createSmtpPool(settings: SmtpPoolSettings): SmtpPool {
  const { auth, ...fromUrl } = parseConnectionUrl(settings.url) as SMTPConnection.Options & { auth?: Auth };
  const options: SMTPConnection.Options = {
    ...fromUrl,
    connectionTimeout: settings.connectionTimeout,
    greetingTimeout: settings.greetingTimeout,
    socketTimeout: settings.socketTimeout,
  };
  /** Connections open and not sending. */
  const idle: SMTPConnection[] = [];
  /** Sends waiting for a connection, in order. */
  const waiting: ((connection: SMTPConnection | Error) => void)[] = [];
  /** Connections open or opening. */
  let count = 0;
  let closed = false;

  const removeIdle = (connection: SMTPConnection) => {
    const i = idle.indexOf(connection);
    if (i >= 0) idle.splice(i, 1);
  };

  /** A new connection, greeted and logged in; it leaves the pool when it ends or fails, whenever that is. */
  function open(): Promise<SMTPConnection> {
    count++;
    const connection = new SMTPConnection(options);
    let gone = false;
    const leave = () => {
      if (gone) return;
      gone = true;
      count--;
      removeIdle(connection);
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        leave();
        connection.close();
        if (!settled) reject(err);
        settled = true;
      };
      // An idle connection the server closes (or that errs) is simply not used again.
      connection.on('error', fail);
      connection.on('end', leave);
      connection.connect((err?: Error | null) => {
        if (err) return fail(err);
        if (!auth) {
          settled = true;
          return resolve(connection);
        }
        connection.login(auth, (loginError) => {
          if (loginError) return fail(loginError);
          settled = true;
          resolve(connection);
        });
      });
    });
  }

  /** An idle connection, a new one while the pool has room, or the next one freed. */
  function acquire(): Promise<SMTPConnection> {
    if (closed) return Promise.reject(new Error('the SMTP pool is closed'));
    const ready = idle.pop();
    if (ready) return Promise.resolve(ready);
    if (count < settings.size) return open();
    return new Promise((resolve, reject) => waiting.push((c) => (c instanceof Error ? reject(c) : resolve(c))));
  }

  /** Hands a connection that finished a message to the next waiting send, or keeps it idle. */
  function release(connection: SMTPConnection): void {
    const next = waiting.shift();
    if (next) next(connection);
    else idle.push(connection);
  }

  /** A connection that broke: the next waiting send gets a new one in its place. */
  function replace(): void {
    const next = waiting.shift();
    if (next) open().then(next, next);
  }

  return {
    async send(envelope, message) {
      const connection = await acquire();
      return new Promise<string>((resolve, reject) => {
        connection.send({ from: envelope.from, to: ([] as string[]).concat(envelope.to) }, message as Buffer, (err, info) => {
          if (!err) {
            release(connection);
            return resolve(info.response);
          }
          const code = (err as { responseCode?: number }).responseCode;
          // A refusal of this message (a reply, not a broken connection) leaves the session usable after RSET.
          if (code && code !== 421) {
            connection.reset((resetError) => {
              if (resetError) {
                connection.close();
                replace();
              } else {
                release(connection);
              }
            });
          } else {
            connection.close();
            replace();
          }
          reject(err);
        });
      });
    },
    async warm() {
      const missing = Math.max(0, settings.size - count);
      const opened = await Promise.all(
        Array.from({ length: missing }, () =>
          open().then(
            (connection) => {
              release(connection);
              return true;
            },
            () => false,
          ),
        ),
      );
      return opened.filter(Boolean).length;
    },
    close() {
      closed = true;
      for (const next of waiting.splice(0)) next(new Error('the SMTP pool is closed'));
      for (const connection of idle.splice(0)) connection.quit();
    },
  };
}
