import type { Config } from './lib/config.js';
import type { Db, Store } from './lib/db/database.js';
import type { Logger } from './lib/logger.js';
import type { Mailer } from './lib/mailer.js';
import type { QueueSettings } from './lib/queue.js';
import type { Clock } from './lib/time.js';
import type { PublicationQueue } from './publication/queue.js';
import type { DeliveryQueue } from './delivery/queue.js';
import type { FileStore } from './attachments/storage.js';
import type { SubscriptionMailQueue } from './subscriptions/mail.js';
import type { AdvanceQueue } from './advance/queue.js';
import type { AggregatorQueue } from './aggregators/queue.js';
import type { SnsFetch } from './bounces/sns.js';

/** What every component's operations get: built once at start (see main.ts). */
export interface AppContext {
  config: Config;
  store: Store;
  db: Db;
  logger: Logger;
  clock: Clock;
  files: FileStore;
  /** Where every component's queues live (Redis URL, key prefix, logger). */
  queueSettings: QueueSettings;
  publication: PublicationQueue;
  /** Confirmation emails of subscriptions (ids only). */
  subscriptionMail: SubscriptionMailQueue;
  /** Send jobs of release emails (ids only; the deliveries table is the truth). */
  deliveries: DeliveryQueue;
  /** Delayed jobs sending personal advance links when a release's advance access opens (ids only). */
  advance: AdvanceQueue;
  /** WebSub and IndexNow jobs (ids only; release_events and the websub tables are the truth). */
  aggregators: AggregatorQueue;
  mailer: Mailer;
  /** HTTPS GETs of Amazon SNS (signing certificates, subscription confirmations); tests put their own here. */
  snsFetch: SnsFetch;
}
