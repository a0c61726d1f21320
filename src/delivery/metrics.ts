import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { withTimeout } from '../lib/queue.js';

/*
 * GET /metrics (Prometheus text format). Counters count what this process did; the
 * gauges are read at scrape time from the database and Redis, so they are right from
 * any process whatever the roles (web and worker apart, or together).
 *
 * Not public: the number of delayed publication jobs tells how many releases are under
 * embargo, and the runtime's version what to attack. The web port serves it to the
 * admin token only (health/routes.ts); the health port (HEALTH_PORT, see health/server.ts), which is not
 * meant to be published, serves it to whoever reaches it, from every role.
 */

const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'newsroom_' });
/** Other components register their counters here (bounces/metrics.ts). */
export { registry as metricsRegistry };

export const deliveryMetrics = {
  sent: new Counter({ name: 'newsroom_emails_sent_total', help: 'Release emails accepted by SMTP (this process)', registers: [registry] }),
  failed: new Counter({ name: 'newsroom_emails_failed_total', help: 'Release emails failed for good (this process)', registers: [registry] }),
  retried: new Counter({ name: 'newsroom_emails_retried_total', help: 'Temporary send failures put back for another attempt (this process)', registers: [registry] }),
};

/** What this process told aggregators (src/websub, src/indexnow). */
export const aggregatorMetrics = {
  websub: new Counter({ name: 'newsroom_websub_distributions_total', help: 'WebSub content distributions by outcome (this process)', labelNames: ['outcome'], registers: [registry] }),
  indexNowUrls: new Counter({ name: 'newsroom_indexnow_urls_submitted_total', help: 'URLs accepted by the IndexNow endpoint (this process)', registers: [registry] }),
  indexNowFailures: new Counter({ name: 'newsroom_indexnow_failures_total', help: 'IndexNow requests that failed (this process; retried)', registers: [registry] }),
};

/** Each scrape installs the context it reads from (there is one per process; tests make several). */
let current: AppContext | undefined;

const deliveriesGauge = new Gauge({
  name: 'newsroom_deliveries',
  help: 'Deliveries in the database by state (all processes)',
  labelNames: ['status'],
  registers: [registry],
  async collect() {
    if (!current) return;
    const rows = await current.db
      .selectFrom('deliveries')
      .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
      .groupBy('status')
      .execute();
    this.reset();
    for (const status of ['queued', 'sending', 'sent', 'failed', 'skipped', 'bounced', 'complained']) {
      this.set({ status }, Number(rows.find((r) => r.status === status)?.count ?? 0));
    }
  },
});
void deliveriesGauge;

const retriedGauge = new Gauge({
  name: 'newsroom_deliveries_retried',
  help: 'Send attempts beyond the first, over all deliveries in the database',
  registers: [registry],
  async collect() {
    if (!current) return;
    const row = await current.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.sum<number>(eb('attempts', '-', 1)).as('retries'))
      .where('attempts', '>', 1)
      .executeTakeFirst();
    this.set(Number(row?.retries ?? 0));
  },
});
void retriedGauge;

const queueAge = new Gauge({
  name: 'newsroom_queue_oldest_waiting_seconds',
  help: 'Age of the oldest job waiting to run, per queue',
  labelNames: ['queue'],
  registers: [],
});

const queueJobs = new Gauge({
  name: 'newsroom_queue_jobs',
  help: 'Jobs in the queues by state (both gauges are read together: one trip to Redis)',
  labelNames: ['queue', 'state'],
  registers: [registry],
  async collect() {
    if (!current) return;
    const ctx = current;
    this.reset();
    queueAge.reset();
    try {
      for (const queue of [ctx.deliveries.queue, ctx.publication.queue] as Queue[]) {
        const counts = await withTimeout(queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'), 1000);
        for (const [state, count] of Object.entries(counts)) this.set({ queue: queue.name, state }, count);
        const [oldest] = await withTimeout(queue.getJobs(['waiting', 'prioritized'], -1, -1, false), 1000);
        queueAge.set({ queue: queue.name }, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
      }
    } catch {
      // Redis away: the queue gauges stay empty for this scrape; /readyz says why.
    }
  },
});
void queueJobs;
// Registered after the gauge that fills it, so that one scrape shows both.
registry.registerMetric(queueAge);

const lastRelease = new Gauge({
  name: 'newsroom_last_release_send_seconds',
  help: 'Seconds from publishAt to the first and the last email sent, for the release announced last',
  labelNames: ['which'],
  registers: [registry],
  async collect() {
    if (!current) return;
    const row = await current.db
      .selectFrom('releases')
      .leftJoin('deliveries', 'deliveries.release_id', 'releases.id')
      .select((eb) => [
        'releases.id',
        eb.fn.coalesce('releases.publish_at', 'releases.published_at').as('at'),
        eb.fn.min('deliveries.sent_at').as('first'),
        eb.fn.max('deliveries.sent_at').as('last'),
      ])
      .where('releases.announced_at', 'is not', null)
      .groupBy(['releases.id', 'releases.announced_at', 'releases.publish_at', 'releases.published_at'])
      .orderBy('releases.announced_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    this.reset();
    if (!row?.at || !row.first || !row.last) return;
    const at = Date.parse(String(row.at));
    this.set({ which: 'first' }, (Date.parse(String(row.first)) - at) / 1000);
    this.set({ which: 'last' }, (Date.parse(String(row.last)) - at) / 1000);
  },
});
void lastRelease;

/** The metrics of this process, read now. */
export async function scrapeMetrics(ctx: AppContext): Promise<{ contentType: string; text: string }> {
  current = ctx;
  return { contentType: registry.contentType, text: await registry.metrics() };
}
