import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../lib/config.js';

/** The tunables of delivery in one place (see README.md in this folder). */

/** Names this process in claims (claimed_by), so a takeover can tell whose claim it was. */
export const processOwner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/**
 * The first page of a fan-out is small, and sent by the process that announced the
 * release without the queue (fanout.ts), so that the first emails leave at once; then
 * pages grow. It adds its size to what one process may have in flight (README.md here).
 */
export const FIRST_PAGE = 50;
export const PAGE = 1000;

/** Deliveries per send job: the rate limit counts jobs, so a low rate makes smaller jobs. */
const SEND_BATCH = 25;
export const sendBatchSize = (config: Pick<Config, 'sendRatePerSecond'>) =>
  Math.max(1, Math.min(SEND_BATCH, config.sendRatePerSecond ?? SEND_BATCH));

/** BullMQ's limiter for SEND_RATE_PER_SECOND (shared by every worker on the queue). */
export const sendLimiter = (config: Pick<Config, 'sendRatePerSecond'>) =>
  config.sendRatePerSecond
    ? { max: Math.max(1, Math.floor(config.sendRatePerSecond / sendBatchSize(config))), duration: 1000 }
    : undefined;

/** Send jobs one worker process runs at once (each hands its batch to the SMTP pool). */
export const SEND_CONCURRENCY = 2;

/**
 * Messages of one job (or of the fan-out's first page) handed to the SMTP pool at once:
 * as many as it has connections, so that one batch keeps every connection busy and two
 * batches take turns on them.
 */
export const sendLanes = (config: Pick<Config, 'smtpPoolSize'>) => config.smtpPoolSize;

/** Attempts of a delivery that fails temporarily (4xx, connection lost) before it counts as failed. */
export const MAX_ATTEMPTS = 8;
/** Delay before attempt n + 1: 2 s, 4 s, 8 s ... up to 10 minutes. */
export const retryDelayMs = (attempts: number) => Math.min(600_000, 1000 * 2 ** attempts);

/** Permanent failures (5xx) on this many releases unsubscribe the address. */
export const SUPPRESS_AFTER_HARD_BOUNCES = 2;

/**
 * Liveness: each worker process renews its row this often, and looks for dead ones.
 * A row not renewed for LIVENESS_STALE_MS (five renewals missed: a busy event loop or a
 * slow database must not pass for death) is a dead process, whose claims and fan-outs
 * are taken over at once. After a kill -9 the others (or the restarted process) take
 * over within LIVENESS_STALE_MS + LIVENESS_EVERY_MS = 12 s; the claim timeout
 * (DELIVERY_CLAIM_TIMEOUT_S) stays as the last resort, for owners without a row.
 */
export const LIVENESS_EVERY_MS = 2_000;
export const LIVENESS_STALE_MS = 5 * LIVENESS_EVERY_MS;

/** How often the worker looks for deliveries that lost their job or their worker. */
export const RECOVERY_EVERY_MS = 10_000;
/** Queued deliveries untouched this long have lost their job (it failed for good): queue them again. */
export const IDLE_QUEUED_MS = 15 * 60_000;
