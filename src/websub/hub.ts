import { createHmac, randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { aggregatorJob, type AggregatorJobData } from '../aggregators/queue.js';
import type { AppContext } from '../context.js';
import { aggregatorMetrics } from '../delivery/metrics.js';
import { feedFormats, feedUrl } from '../feeds/items.js';
import { currentFeed } from '../feeds/current.js';
import { badRequest } from '../lib/errors.js';
import { OutboundError, outboundRequest, outboundUrl } from '../lib/outbound.js';
import { isoTime } from '../lib/time.js';
import type { AnnouncedRelease } from '../releases/public.js';
import {
  deleteIntent,
  deleteSubscription,
  deleteSubscriptionById,
  distributionArrived,
  distributionFailed,
  findIntent,
  findSubscription,
  type HubMode,
  insertIntent,
  type Subscription,
  saveSubscription,
  subscriptionsAround,
} from './repository.js';
import { parseTopic } from './topics.js';

/*
 * The service's own WebSub hub (W3C WebSub, sections 5 to 7): subscription requests are
 * accepted (202) and verified asynchronously by a GET to the callback with a challenge;
 * a verified subscription lasts its lease; when a release changes a feed, every live
 * subscriber of that feed is sent the feed as it now is, signed with its hub.secret.
 */

/** Lease given when none is asked for, and the bounds of one that is (seconds). */
export const LEASE = { default: 10 * 24 * 3600, min: 3600, max: 30 * 24 * 3600 };
/** WebSub: the secret MUST be less than 200 bytes. */
const SECRET_MAX_BYTES = 199;
/** Distributions that failed every attempt, in a row, after which a subscription is dropped. */
export const FAILED_DISTRIBUTIONS_LIMIT = 3;
/** What is read back from a callback: a challenge (verification), nothing much (distribution). */
const CALLBACK_READ_BYTES = 4096;

export interface HubRequest {
  mode: HubMode;
  topic: string;
  callback: string;
  leaseSeconds?: number;
  secret?: string;
}

const invalid = (field: string, message: string) => badRequest(`${field}: ${message}`, [{ path: field, message }]);

/**
 * Checks a subscribe or unsubscribe request and records it for verification of intent.
 * Refused at once (400) when the topic is not one of this installation's feeds or the
 * callback is not an http(s) URL; whether the callback's address may be reached is
 * decided when it is connected to.
 */
export async function requestSubscription(ctx: AppContext, request: HubRequest): Promise<void> {
  const topic = await parseTopic(ctx, request.topic);
  if (!topic) throw invalid('hub.topic', 'is not a feed of this hub (give the URL a feed names itself with rel="self")');
  try {
    outboundUrl(request.callback);
  } catch (error) {
    throw invalid('hub.callback', (error as Error).message);
  }
  if (request.secret !== undefined && Buffer.byteLength(request.secret) > SECRET_MAX_BYTES) {
    throw invalid('hub.secret', `must be less than 200 bytes`);
  }
  const leaseSeconds = Math.min(LEASE.max, Math.max(LEASE.min, request.leaseSeconds ?? LEASE.default));
  const id = await insertIntent(
    ctx.db,
    { mode: request.mode, topic: topic.url, callback: request.callback, leaseSeconds, secret: request.secret ?? null },
    isoTime(ctx.clock.now()),
  );
  const job = aggregatorJob({ name: 'verify', data: { intentId: id } }, ctx.config.outboundRetryDelayMs);
  await ctx.aggregators.add(job.name, job.data, job.opts);
}

const lastAttempt = (job: Job) => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

/**
 * Verification of intent: GET the callback with hub.mode, hub.topic, hub.challenge (and
 * hub.lease_seconds); the subscriber confirms with a 2xx whose body is the challenge.
 * A callback that cannot be reached is tried again; one that answers otherwise has not
 * confirmed, and the request is dropped.
 */
export async function verifyIntent(ctx: AppContext, job: Job<AggregatorJobData>): Promise<string> {
  const { intentId } = job.data as { intentId: string };
  const intent = await findIntent(ctx.db, intentId);
  if (!intent) return 'gone';
  const challenge = randomBytes(24).toString('hex');
  const url = new URL(intent.callback);
  url.searchParams.append('hub.mode', intent.mode);
  url.searchParams.append('hub.topic', intent.topic);
  url.searchParams.append('hub.challenge', challenge);
  if (intent.mode === 'subscribe') url.searchParams.append('hub.lease_seconds', String(intent.leaseSeconds));
  let confirmed: boolean;
  try {
    const answer = await outboundRequest(url.href, ctx.config.outboundAllowPrivate, { maxBytes: CALLBACK_READ_BYTES });
    confirmed = answer.status >= 200 && answer.status < 300 && answer.body === challenge;
  } catch (error) {
    ctx.logger.warn({ err: (error as Error).message, intentId }, 'websub: callback not reached for verification');
    if (!lastAttempt(job)) throw error;
    confirmed = false;
  }
  const topic = confirmed ? await parseTopic(ctx, intent.topic) : undefined;
  if (topic && intent.mode === 'subscribe') await saveSubscription(ctx.db, topic, intent, ctx.clock.now());
  if (topic && intent.mode === 'unsubscribe') await deleteSubscription(ctx.db, intent.topic, intent.callback);
  await deleteIntent(ctx.db, intent.id);
  ctx.logger.info({ intentId, mode: intent.mode, confirmed: Boolean(topic) }, 'websub: verification of intent');
  return topic ? `${intent.mode}d` : 'not confirmed';
}

/** The live subscriptions whose feed shows (or showed) the release. */
export async function subscriptionsChangedBy(ctx: AppContext, release: AnnouncedRelease): Promise<Subscription[]> {
  const languages = new Set(release.pages.map((p) => p.lang));
  const subscriptions = await subscriptionsAround(ctx.db, release.newsroomId, isoTime(ctx.clock.now()));
  return subscriptions.filter((s) => {
    if (s.newsroomId === null) return true;
    if (!s.lang || !languages.has(s.lang)) return false;
    return s.keyword === null || (release.keywords[s.lang] ?? []).some((k) => k.toLowerCase() === s.keyword);
  });
}

export const signature = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * Content distribution to one subscriber: the topic's feed as it now is (never ahead of
 * any publication time: it is the public feed), with the hub and self links, signed
 * when the subscriber gave a secret. A 410 ends the subscription (WebSub 7); any other
 * failure is tried again with back-off, and after the last attempt counts towards
 * dropping the subscription.
 */
export async function distribute(ctx: AppContext, job: Job<AggregatorJobData>): Promise<string> {
  const { subscriptionId } = job.data as { subscriptionId: string };
  const subscription = await findSubscription(ctx.db, subscriptionId);
  if (!subscription || subscription.expiresAt <= isoTime(ctx.clock.now())) return 'gone';
  const topic = await parseTopic(ctx, subscription.topic);
  const feed = topic && (await currentFeed(ctx, topic.format, topic.address));
  if (!feed) {
    await deleteSubscriptionById(ctx.db, subscription.id);
    return 'topic gone';
  }
  const headers: Record<string, string> = { 'content-type': feed.contentType, link: feed.link };
  if (subscription.secret) headers['x-hub-signature'] = signature(subscription.secret, feed.body);
  let failure: string;
  try {
    const answer = await outboundRequest(subscription.callback, ctx.config.outboundAllowPrivate, {
      method: 'POST',
      headers,
      body: feed.body,
      maxBytes: CALLBACK_READ_BYTES,
    });
    if (answer.status >= 200 && answer.status < 300) {
      await distributionArrived(ctx.db, subscription.id);
      aggregatorMetrics.websub.inc({ outcome: 'delivered' });
      return 'delivered';
    }
    if (answer.status === 410) {
      await deleteSubscriptionById(ctx.db, subscription.id);
      return 'unsubscribed (410)';
    }
    failure = `callback answered ${answer.status}`;
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    failure = error.message;
  }
  aggregatorMetrics.websub.inc({ outcome: 'failed' });
  if (lastAttempt(job)) {
    const dropped = await distributionFailed(ctx.db, subscription.id, FAILED_DISTRIBUTIONS_LIMIT);
    ctx.logger.warn({ subscriptionId, failure, dropped }, 'websub: distribution failed for good');
  }
  throw new Error(`websub distribution: ${failure}`);
}

/** Every feed URL the release shows in (or showed in): all newsrooms', its newsroom's per language, its keywords'. */
export function feedsOf(base: string, release: AnnouncedRelease): string[] {
  return feedFormats.flatMap((format) => [
    feedUrl(base, format, {}),
    ...release.pages.flatMap(({ lang }) => [
      feedUrl(base, format, { newsroomSlug: release.newsroomSlug, lang }),
      ...(release.keywords[lang] ?? []).map((keyword) => feedUrl(base, format, { newsroomSlug: release.newsroomSlug, lang, keyword: keyword.toLowerCase() })),
    ]),
  ]);
}

/**
 * Tells the external hubs (WEBSUB_EXTERNAL_HUBS) that the release's feeds changed
 * (`hub.mode=publish`, as the hubs that take pings ask); they fetch the feeds themselves.
 */
export async function pingExternalHubs(ctx: AppContext, release: AnnouncedRelease): Promise<void> {
  const form = new URLSearchParams({ 'hub.mode': 'publish' });
  for (const topic of feedsOf(ctx.config.publicUrl, release)) form.append('hub.url', topic);
  for (const hub of ctx.config.externalHubs) {
    const answer = await outboundRequest(hub, ctx.config.outboundAllowPrivate, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      maxBytes: CALLBACK_READ_BYTES,
    });
    if (answer.status < 200 || answer.status >= 300) throw new Error(`hub ${hub} answered ${answer.status}`);
  }
}
