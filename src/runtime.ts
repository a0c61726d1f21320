import { fetchFromSns } from './bounces/sns.js';
import { openFileStore } from './attachments/storage.js';
import type { Config } from './lib/config.js';
import type { AppContext } from './context.js';
import { databaseClock } from './lib/db/clock.js';
import { installationId, migrate, openStore } from './lib/db/database.js';
import { createLogger, type Logger } from './lib/logger.js';
import { createMailer } from './lib/mailer.js';
import type { Clock } from './lib/time.js';
import { createPublicationQueue } from './publication/queue.js';
import { createSubscriptionMailQueue } from './subscriptions/mail.js';
import { createDeliveryQueue } from './delivery/queue.js';
import { createAdvanceQueue } from './advance/queue.js';
import { createAggregatorQueue } from './aggregators/queue.js';

/** An upload whose temp file has not changed for this long was cut off by a crash. */
const STALE_UPLOAD_MS = 6 * 60 * 60 * 1000;

export interface ContextOptions {
  logger?: Logger;
  clock?: Clock;
  /** PostgreSQL schema to use; tests give each test file its own. */
  databaseSchema?: string;
}

/** Opens the database (migrating it), the queues and the file store. */
export async function createContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  const logger = options.logger ?? createLogger(config.logLevel, { pretty: config.env !== 'production' && process.stdout.isTTY === true });
  const store = openStore(config.databaseUrl, { schema: options.databaseSchema });
  await migrate(store);
  const files = await openFileStore(config);
  await files.checkWritable();
  await files.claim(await installationId(store));
  await files.removeStaleTemp(STALE_UPLOAD_MS);
  const queueSettings = { redisUrl: config.redisUrl, prefix: config.queuePrefix, logger };
  return {
    config,
    queueSettings,
    store,
    db: store.db,
    logger,
    clock: options.clock ?? (await databaseClock(store, logger)),
    files,
    publication: createPublicationQueue(queueSettings),
    subscriptionMail: createSubscriptionMailQueue(queueSettings),
    mailer: createMailer({ smtpUrl: config.smtpUrl, outboxDir: config.outboxDir, poolSize: config.smtpPoolSize, dkim: config.dkim }),
    deliveries: createDeliveryQueue(queueSettings),
    advance: createAdvanceQueue(queueSettings),
    aggregators: createAggregatorQueue(queueSettings),
    snsFetch: fetchFromSns,
  };
}

export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.publication.close();
  await ctx.subscriptionMail.close();
  await ctx.deliveries.close();
  await ctx.advance.close();
  await ctx.aggregators.close();
  ctx.mailer.close();
  ctx.clock.close?.();
  await ctx.store.destroy();
}
