import { setTimeout as sleep } from 'node:timers/promises';
import type { Router } from 'express';
import type { AppContext } from '../../context.js';
import { deliveryCounts, tally } from '../../delivery/counts.js';
import { deliveryReport, sentPerInterval } from '../../delivery/repository.js';
import { t } from '../../lib/i18n.js';
import { param, type StaffPages } from '../staff.js';
import { languageName } from '../views.js';
import { loadRelease } from './release.js';

/* The sending of a published release: the report on its page, and its counts live. */

const STREAM_INTERVAL_MS = 1000;
const MAX_STREAM_MS = 10 * 60 * 1000;

/** Per language counts and the latest failures with their SMTP reply, for the editor's delivery view. */
export async function deliveryDetail(ctx: AppContext, releaseId: string, lang: string) {
  const report = await deliveryReport(ctx.db, releaseId, { limit: 20, offset: 0 });
  const languages = [...new Set(report.counts.map((c) => c.language).filter((l): l is string => !!l))];
  return {
    languages: languages.map((code) => ({ name: languageName(code, lang), ...tally(report.counts.filter((c) => c.language === code)) })),
    failures: report.failures,
    failureCount: report.failureCount,
    chart: report.firstSentAt && report.lastSentAt ? await sendingChart(ctx, releaseId, report.firstSentAt, report.lastSentAt, lang) : undefined,
  };
}

/** Messages sent over time as SVG bars (drawn here: no chart service, no script). */
async function sendingChart(ctx: AppContext, releaseId: string, first: string, last: string, lang: string) {
  const BARS = 30;
  const WIDTH = 300;
  const HEIGHT = 80;
  const span = Date.parse(last) - Date.parse(first) + 1;
  const intervalMs = Math.max(1000, Math.ceil(span / BARS / 1000) * 1000);
  const counts = await sentPerInterval(ctx.db, ctx.store.dialect, releaseId, first, intervalMs);
  const bars = Math.min(BARS, Math.ceil(span / intervalMs));
  const most = Math.max(1, ...counts.values());
  const barWidth = WIDTH / bars;
  return {
    width: WIDTH,
    height: HEIGHT,
    intervalSeconds: intervalMs / 1000,
    from: first,
    to: last,
    bars: Array.from({ length: bars }, (_, i) => {
      const count = counts.get(i) ?? 0;
      const height = Math.round((count / most) * HEIGHT * 10) / 10;
      return { x: Math.round(i * barWidth * 10) / 10, y: HEIGHT - height, width: Math.max(1, Math.round((barWidth - 1) * 10) / 10), height, count };
    }),
    label: intervalMs === 1000 ? t(lang, 'admin.deliveries.chartPerSecond') : t(lang, 'admin.deliveries.chart', { seconds: intervalMs / 1000 }),
  };
}

export function deliveryPages(router: Router, { ctx, staff }: StaffPages): void {
  /*
   * Delivery counts while sending, as server-sent events: one `counts` event a second
   * while messages are queued, then the stream ends (after MAX_STREAM_MS at the latest).
   */
  router.get('/releases/:id/deliveries/stream', staff(async (req, res, session) => {
    const { release } = await loadRelease(ctx, session, param(req, 'id'));
    res.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let open = true;
    req.on('close', () => {
      open = false;
    });
    const until = Date.now() + MAX_STREAM_MS;
    while (open && Date.now() < until) {
      const counts = await deliveryCounts(ctx, release.id);
      res.write(`event: counts\ndata: ${JSON.stringify(counts)}\n\n`);
      if (counts.queued === 0) break;
      await sleep(STREAM_INTERVAL_MS);
    }
    res.end();
  }));
}
