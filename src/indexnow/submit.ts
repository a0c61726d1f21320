import type { Job } from 'bullmq';
import type { AggregatorJobData } from '../aggregators/queue.js';
import type { AppContext } from '../context.js';
import { aggregatorMetrics } from '../delivery/metrics.js';
import { outboundRequest } from '../lib/outbound.js';
import { findReleaseEvent } from '../publication/events.js';
import { announcedRelease } from '../releases/public.js';
import { indexNowKeyUrl, releasePageUrl } from '../site/urls.js';

/*
 * IndexNow (indexnow.org): when a release becomes public, is corrected or withdrawn, its
 * page URLs (every language) are submitted to INDEXNOW_ENDPOINT, which the search
 * engines that take IndexNow share. Off unless INDEXNOW_KEY is set; the key file is
 * served at /<key>.txt (routes.ts), the proof that the submitter owns the host.
 */

/** IndexNow takes at most 10,000 URLs a request. */
export const URLS_PER_REQUEST = 10_000;

export async function submitRelease(ctx: AppContext, job: Job<AggregatorJobData>): Promise<string> {
  const indexNow = ctx.config.indexNow;
  if (!indexNow) return 'off';
  const { eventId } = job.data as { eventId: string };
  const event = await findReleaseEvent(ctx.db, eventId);
  const release = event && (await announcedRelease(ctx, event.releaseId));
  if (!release) return 'gone';
  const base = ctx.config.publicUrl;
  const urls = release.pages.map((p) => releasePageUrl(base, release.newsroomSlug, p.lang, release.id, p.title));
  for (let i = 0; i < urls.length; i += URLS_PER_REQUEST) {
    const urlList = urls.slice(i, i + URLS_PER_REQUEST);
    const body = JSON.stringify({ host: new URL(base).host, key: indexNow.key, keyLocation: indexNowKeyUrl(base, indexNow.key), urlList });
    try {
      const answer = await outboundRequest(indexNow.endpoint, ctx.config.outboundAllowPrivate, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        maxBytes: 4096,
      });
      // 200 and 202 are IndexNow's two yeses; 4xx says the key or the URLs are wrong, which a retry does not mend.
      if (answer.status !== 200 && answer.status !== 202) throw new Error(`IndexNow answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    } catch (error) {
      aggregatorMetrics.indexNowFailures.inc();
      ctx.logger.warn({ err: (error as Error).message, releaseId: release.id, eventId }, 'indexnow: submission failed');
      throw error;
    }
    aggregatorMetrics.indexNowUrls.inc(urlList.length);
  }
  ctx.logger.info({ releaseId: release.id, eventId, kind: event.kind, urls: urls.length }, 'indexnow: submitted');
  return `submitted ${urls.length}`;
}
