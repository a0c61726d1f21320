import type { AddressInfo } from 'node:net';
import type { AppContext } from '../context.js';
import type { RunningWorker } from '../lib/queue.js';
import { MAX_BOUNCE_BYTES, RECEIVER_CONNECTIONS_PER_MINUTE, RECEIVER_MAX_CLIENTS } from './policy.js';
import { handleReturnedMessage } from './process.js';
import { checkReturnPath } from './return-path.js';

/*
 * The SMTP receiver for BOUNCE_DOMAIN (worker role, BOUNCE_SMTP_PORT): the MX an operator
 * points the bounce domain at. It takes mail for the bounce addresses only (a return path
 * we signed, or the plain BOUNCE_LOCALPART@ address that feedback loops use); a forged
 * token or any other address is refused at RCPT, a message past MAX_BOUNCE_BYTES at DATA,
 * and a client opening connections too fast at connection.
 */

export interface BounceReceiver extends RunningWorker {
  /** The port listened on (BOUNCE_SMTP_PORT, or the one chosen for 0). */
  port: number | undefined;
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export async function startBounceReceiver(ctx: AppContext): Promise<BounceReceiver> {
  const { smtpPort, smtpHost } = ctx.config.bounces;
  if (smtpPort === undefined) return { name: 'bounce receiver (off)', port: undefined, close: async () => undefined };
  // Loaded only when the receiver is on: most installations have none.
  const [{ RateLimiterMemory }, { SMTPServer }] = await Promise.all([import('rate-limiter-flexible'), import('smtp-server')]);
  const limiter = new RateLimiterMemory({ points: RECEIVER_CONNECTIONS_PER_MINUTE, duration: 60 });
  const server = new SMTPServer({
    name: ctx.config.bounces.domain,
    banner: 'bounces only',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSize: false,
    size: MAX_BOUNCE_BYTES,
    maxClients: RECEIVER_MAX_CLIENTS,
    socketTimeout: 60_000,
    logger: false,
    onConnect(session, callback) {
      limiter.consume(session.remoteAddress).then(
        () => callback(),
        () => {
          ctx.logger.warn({ remoteAddress: session.remoteAddress }, 'bounce receiver: too many connections');
          callback(smtpError(421, 'Too many connections, try again later'));
        },
      );
    },
    onRcptTo(address, session, callback) {
      if (session.envelope.rcptTo.length >= 10) return callback(smtpError(452, '4.5.3 Too many recipients'));
      const check = checkReturnPath(ctx.config, address.address);
      if (check.kind === 'delivery' || check.kind === 'plain') return callback();
      if (check.kind === 'forged') ctx.logger.warn({ rcptTo: address.address, remoteAddress: session.remoteAddress }, 'bounce receiver: forged return path refused');
      callback(smtpError(550, check.kind === 'forged' ? '5.1.1 No such bounce address' : '5.7.1 This server takes mail for the bounce address only'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Past the limit the rest is read and dropped (the client is refused at the end).
        if (size <= MAX_BOUNCE_BYTES) chunks.push(chunk);
      });
      stream.on('end', () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded) return callback(smtpError(552, `5.3.4 Message larger than ${MAX_BOUNCE_BYTES} bytes`));
        const to = session.envelope.rcptTo.map((r) => r.address);
        handleReturnedMessage(ctx, 'smtp', Buffer.concat(chunks), to).then(
          () => callback(null, 'Ok: bounce read'),
          (error: Error) => {
            ctx.logger.error({ error: error.message }, 'bounce receiver: could not record a bounce');
            callback(smtpError(451, '4.3.0 Could not record it now, try again later'));
          },
        );
      });
    },
  });
  server.on('error', (error) => ctx.logger.warn({ error: error.message }, 'bounce receiver: connection error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(smtpPort, smtpHost, () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  ctx.logger.info({ port, domain: ctx.config.bounces.domain }, 'bounce receiver listening');
  return { name: 'bounce receiver', port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
