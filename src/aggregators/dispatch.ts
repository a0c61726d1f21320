import type { AppContext } from '../context.js';
import { withTimeout } from '../lib/queue.js';
import { isoTime } from '../lib/time.js';
import { eventsDispatchedSince, markDispatched, type ReleaseEventRow, undispatchedEvents } from '../publication/events.js';
import { announcedRelease } from '../releases/public.js';
import { subscriptionsChangedBy } from '../websub/hub.js';
import { aggregatorJob } from './queue.js';

/*
 * From the outbox (release_events) to jobs: one content distribution per live WebSub
 * subscription of a feed the release is in, one IndexNow submission, one ping of the
 * external hubs. Any process may dispatch an event, any number of times: the job ids
 * make it one set of jobs.
 */

const ENQUEUE_TIMEOUT_MS = 5000;

/** Queues the jobs of one event; false when Redis did not take them (the sweep tries again). */
async function queueEventJobs(ctx: AppContext, event: ReleaseEventRow): Promise<boolean> {
  const release = await announcedRelease(ctx, event.releaseId);
  if (!release) return true; // deleted, or (never) not yet public: nothing to tell
  const delay = ctx.config.outboundRetryDelayMs;
  const subscriptions = await subscriptionsChangedBy(ctx, release);
  const jobs = [
    ...subscriptions.map((s) => aggregatorJob({ name: 'distribute', data: { eventId: event.id, subscriptionId: s.id } }, delay)),
    ...(ctx.config.indexNow ? [aggregatorJob({ name: 'indexnow', data: { eventId: event.id } }, delay)] : []),
    ...(ctx.config.externalHubs.length ? [aggregatorJob({ name: 'hubs', data: { eventId: event.id } }, delay)] : []),
  ];
  if (!jobs.length) return true;
  if (!ctx.aggregators.isReady()) return false;
  try {
    await withTimeout(ctx.aggregators.queue.addBulk(jobs as never), ENQUEUE_TIMEOUT_MS);
    return true;
  } catch (error) {
    ctx.logger.warn({ err: (error as Error).message, eventId: event.id }, 'could not queue the jobs of a release event; the sweep tries again');
    return false;
  }
}

/** Dispatches the events not dispatched yet (all, or those given). Returns how many it dispatched. */
export async function dispatchEvents(ctx: AppContext, ids?: readonly string[]): Promise<number> {
  let done = 0;
  for (const event of await undispatchedEvents(ctx.db, ids)) {
    if (!(await queueEventJobs(ctx, event))) break;
    await markDispatched(ctx.db, event.id, isoTime(ctx.clock.now()));
    ctx.logger.info({ eventId: event.id, releaseId: event.releaseId, kind: event.kind }, 'release event dispatched to aggregators');
    done++;
  }
  return done;
}

/** How far back a Redis that lost its data may have lost dispatched jobs still to run (retries included). */
const REDISPATCH_WINDOW_MS = 24 * 3600 * 1000;

/** After a (re)connection: the jobs of recent events again (those still in Redis are not doubled). */
export async function redispatchRecent(ctx: AppContext): Promise<number> {
  const since = isoTime(new Date(ctx.clock.now().getTime() - REDISPATCH_WINDOW_MS));
  const events = await eventsDispatchedSince(ctx.db, since);
  for (const event of events) if (!(await queueEventJobs(ctx, event))) break;
  return events.length + (await dispatchEvents(ctx));
}
