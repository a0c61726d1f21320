import { setTimeout as sleep } from 'node:timers/promises';
import type { Router } from 'express';
import { noticeReport } from '../../notices/operations.js';
import type { AppContext } from '../../context.js';
import { type DeliveryCounts, deliveryCounts, tally } from '../../delivery/counts.js';
import { countReleaseBounces, listReleaseBounces } from '../../bounces/repository.js';
import { bounceItems } from '../bounces/bounces.js';
import { deliveryReport, findSendingProgress, type Outcomes, outcomeSpan, outcomesPerInterval, type SendingProgress } from '../../delivery/repository.js';
import { formatDate, formatTime, t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import type { Newsroom } from '../../newsrooms/repository.js';
import { effectivePublishedAt, effectiveStatus, type ReleaseStatus } from '../../releases/visibility.js';
import { param, type StaffPages } from '../staff.js';
import { langOf, languageName, pageHeaders, zonedText } from '../views.js';
import { loadRelease } from './release.js';

/*
 * A release from its publication to its last email, as the release's page shows it:
 * its state ("scheduled for ...", "published ..."), the delivery report (counts per
 * language, a chart of outcomes over time, failures), and a live stream that follows
 * both without a reload, from the moment a scheduled release is shown.
 */

const reportView = templateBeside(import.meta.url, 'delivery-report.hbs');

const TICK_MS = 1000;
/** A stream ends after this long; the browser reconnects (after RETRY_MS) if there is more to follow. */
const MAX_STREAM_MS = 10 * 60 * 1000;
const RETRY_MS = 3000;

/** The release's state in words: its status and when it is (or was) published, in the newsroom's zone. */
export function stateView(release: Pick<SendingProgress, 'status' | 'publishAt' | 'publishedAt'>, now: Date, lang: string, zone: string) {
  const status = effectiveStatus(release, now);
  const published = effectivePublishedAt(release, now);
  const at = published ?? (status === 'scheduled' ? release.publishAt : null);
  return {
    status,
    label: t(lang, `admin.status.${status}`),
    when: at ? { label: t(lang, published ? 'admin.editor.publishedAt' : 'admin.editor.scheduledFor'), at, text: zonedText(lang, at, zone) } : undefined,
  };
}

/** The statuses during which a part of the page shows (`data-while`); the page's script follows the same rule. */
export const showsWhile = (status: ReleaseStatus, statuses: string) => statuses.split(' ').includes(status);

export interface Progress {
  row: SendingProgress;
  status: ReleaseStatus;
  counts: DeliveryCounts;
  /** Nothing more will change by itself: not scheduled, and every email of it has an outcome. */
  settled: boolean;
}

/** Where the release stands now; undefined when it no longer exists. */
export async function readProgress(ctx: AppContext, releaseId: string): Promise<Progress | undefined> {
  const row = await findSendingProgress(ctx.db, releaseId);
  if (!row) return undefined;
  const status = effectiveStatus(row, ctx.clock.now());
  const sending = status === 'published' || status === 'withdrawn';
  const counts = sending ? await deliveryCounts(ctx, releaseId) : tally([]);
  // A due release stays "scheduled" in its row until the publication worker records it.
  const settled = row.status === 'draft' || row.status === 'withdrawn' || (row.status === 'published' && row.announced && !row.fanningOut && counts.queued === 0);
  return { row, status, counts, settled };
}

/**
 * The delivery report's HTML: per language counts, the chart, the latest failures with
 * their SMTP reply, the latest bounces and complaints after acceptance with their reason.
 */
export async function renderDeliveryReport(ctx: AppContext, releaseId: string, newsroom: Newsroom, lang: string): Promise<string> {
  const [report, bounces, bounceList] = await Promise.all([
    deliveryReport(ctx.db, releaseId, { limit: 20, offset: 0 }),
    countReleaseBounces(ctx.db, releaseId),
    listReleaseBounces(ctx.db, releaseId, 20),
  ]);
  const languages = [...new Set(report.counts.map((c) => c.language).filter((l): l is string => !!l))];
  const notices = await noticeReport(ctx, releaseId);
  return reportView({
    lang,
    timezone: newsroom.timezone,
    notices: notices.map((n) => ({ ...n, kind: t(lang, `admin.corrections.kind.${n.kind}`) })),
    languages: languages.map((code) => ({ name: languageName(code, lang), ...tally(report.counts.filter((c) => c.language === code)) })),
    bounces,
    bounceList: bounceItems(lang, bounceList),
    failures: report.failures,
    failureCount: report.failureCount,
    chart: await outcomeChart(ctx, releaseId, lang, newsroom.timezone),
  });
}

/** Interval widths the chart's bars may have, in seconds: round ones, so that the time axis reads well. */
const INTERVALS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const MAX_BARS = 48;
/** Bars between two labels of the time axis: the axis has four steps of this many bars. */
const TICK_BARS = [1, 2, 3, 5, 6, 10, 12];
const TICK_STEPS = 4;
const PLOT_HEIGHT = 160;
const SERIES = ['accepted', 'retried', 'failed'] as const;

/** The smallest of 1, 2, 5 times a power of ten that is at least `n` (the y axis's top). */
function roundUp(n: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, n)));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= n)!;
}

/** How many emails were accepted, accepted after a retry, and failed over time, drawn as stacked bars (SVG, no script). */
async function outcomeChart(ctx: AppContext, releaseId: string, lang: string, zone: string) {
  const span = await outcomeSpan(ctx.db, releaseId);
  if (!span) return undefined;
  const first = Date.parse(span.first);
  const last = Date.parse(span.last);
  const seconds = INTERVALS.find((s) => Math.floor(last / 1000 / s) - Math.floor(first / 1000 / s) + 1 <= MAX_BARS) ?? INTERVALS.at(-1)!;
  const width = seconds * 1000;
  const start = Math.floor(first / width) * width;
  const needed = Math.floor((last - start) / width) + 1;
  const perTick = TICK_BARS.find((k) => k * TICK_STEPS >= needed) ?? Math.ceil(needed / TICK_STEPS);
  const bars = perTick * TICK_STEPS;
  const from = new Date(start).toISOString();
  const to = new Date(start + bars * width).toISOString();
  const buckets = await outcomesPerInterval(ctx.db, ctx.store.dialect, releaseId, from, width);
  const number = new Intl.NumberFormat(lang);
  const totals: Outcomes = { accepted: 0, retried: 0, failed: 0 };
  for (const counts of buckets.values()) for (const s of SERIES) totals[s] += counts[s];
  const top = roundUp(Math.max(1, ...[...buckets.values()].map((c) => c.accepted + c.retried + c.failed)));
  const percent = (n: number) => `${Math.round(n * 10000) / 100}%`;
  const withSeconds = seconds < 60;
  const clock = (ms: number) => formatTime(lang, new Date(ms).toISOString(), zone, withSeconds);
  const unit = seconds % 3600 === 0 ? 'hour' : seconds % 60 === 0 ? 'minute' : 'second';
  const count = seconds / { hour: 3600, minute: 60, second: 1 }[unit];
  return {
    title:
      count === 1
        ? t(lang, `admin.deliveries.chart.per.${unit}`)
        : t(lang, 'admin.deliveries.chart.perInterval', {
            interval: new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'short' }).format(count),
          }),
    range: t(lang, 'admin.deliveries.chart.range', {
      date: formatDate(lang, from, zone),
      from: clock(start),
      to: clock(start + bars * width),
      zone,
    }),
    summary: t(lang, 'admin.deliveries.chart.summary', { ...totals, from: zonedText(lang, from, zone), to: zonedText(lang, to, zone) }),
    height: PLOT_HEIGHT,
    middleY: PLOT_HEIGHT / 2,
    yTop: number.format(top),
    yMiddle: top % 2 === 0 ? number.format(top / 2) : undefined,
    legend: SERIES.map((s) => ({ series: s, label: t(lang, `admin.deliveries.chart.${s}`), count: number.format(totals[s]) })),
    bars: Array.from({ length: bars }, (_, i) => {
      const counts = buckets.get(i) ?? { accepted: 0, retried: 0, failed: 0 };
      let y = PLOT_HEIGHT;
      const segments = SERIES.filter((s) => counts[s] > 0).map((s) => {
        const height = Math.max(1, Math.round((counts[s] / top) * PLOT_HEIGHT * 10) / 10);
        y -= height;
        return { series: s, y: Math.round(y * 10) / 10, height };
      });
      return {
        x: percent((i + 0.1) / bars),
        width: percent(0.8 / bars),
        segments,
        title: t(lang, 'admin.deliveries.chart.bar', { time: clock(start + i * width), ...counts }),
      };
    }),
    ticks: Array.from({ length: TICK_STEPS + 1 }, (_, i) => ({
      x: percent(i / TICK_STEPS),
      anchor: i === 0 ? 'start' : i === TICK_STEPS ? 'end' : 'middle',
      minor: i % 2 === 1,
      label: clock(start + i * perTick * width),
    })),
  };
}

/** Server-sent events, `event: name` and one line of JSON. */
const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export function deliveryPages(router: Router, { ctx, staff }: StaffPages): void {
  /** The report alone, for the release's page to refresh while and after sending. */
  router.get('/releases/:id/deliveries', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    pageHeaders(res);
    res.type('html').send(await renderDeliveryReport(ctx, release.id, newsroom, langOf(res)));
  }));

  /*
   * The release's page live: a `state` event when its status or publication time
   * changes, a `counts` event when its delivery counts do (once it is public), and
   * `done` once nothing more will change by itself. The page gives the update time it
   * was rendered from (`since`): while nobody else changed the release since, each
   * state carries its version, which the page's forms take over (the publication
   * raises it; without this, the next save would be refused as a conflict); otherwise
   * it says `changed`.
   */
  router.get('/releases/:id/live', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    const lang = langOf(res);
    const since = typeof req.query.since === 'string' ? req.query.since : release.updatedAt;
    res.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write(`retry: ${RETRY_MS}\n\n`);
    let open = true;
    req.on('close', () => {
      open = false;
    });
    let sentState = '';
    let sentCounts = '';
    const until = Date.now() + MAX_STREAM_MS;
    while (open && Date.now() < until) {
      const progress = await readProgress(ctx, release.id);
      if (!progress) {
        res.write(event('done', { deleted: true }));
        break;
      }
      const { row } = progress;
      const state = event('state', {
        ...stateView(row, ctx.clock.now(), lang, newsroom.timezone),
        ...(row.updatedAt === since ? { version: row.version } : { changed: true }),
      });
      if (state !== sentState) res.write((sentState = state));
      const counts = event('counts', progress.counts);
      if (counts !== sentCounts && (progress.status === 'published' || progress.status === 'withdrawn')) res.write((sentCounts = counts));
      if (progress.settled) {
        res.write(event('done', {}));
        break;
      }
      await sleep(TICK_MS);
    }
    res.end();
  }));
}
