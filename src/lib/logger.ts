import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

const require = createRequire(import.meta.url);

/**
 * pino-pretty, when it is installed (a development dependency: the production image has
 * none) and wanted; synchronous, so that nothing is lost when the process exits.
 */
function prettyStream(): DestinationStream | undefined {
  try {
    const pretty = require('pino-pretty') as (options: object) => DestinationStream;
    return pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}

/** JSON lines, or readable lines when `pretty` (a terminal, outside production). */
export function createLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  const settings = {
    level,
    // Tokens and cookies never reach the log.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
  };
  const stream = options.pretty ? prettyStream() : undefined;
  return stream ? pino(settings, stream) : pino(settings);
}
