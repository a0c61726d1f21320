import type { AppContext } from '../context.js';
import { IDLE_QUEUED_MS, sendBatchSize } from '../delivery/policy.js';
import { conflict, notFound } from '../lib/errors.js';
import { isoTime } from '../lib/time.js';
import type { CorrectionKind, Release } from '../releases/repository.js';
import { isPublic } from '../releases/visibility.js';
import { claimNotice, noticeCounts, notifiedCorrections, queuedNotices, releaseStaleNoticeClaims } from './repository.js';
import { noticeJobs } from './send.js';

/**
 * Has those who received `release` (its deliveries sent) told of one of its corrections,
 * or of its withdrawal, each in their delivery language: once per correction (a second
 * request is a 409), never anyone who subscribed after the release went out.
 */
export async function notifyRecipients(ctx: AppContext, release: Release, correctionId: string): Promise<{ correctionId: string; recipients: number }> {
  const correction = release.corrections.find((c) => c.id === correctionId);
  if (!correction) throw notFound('Correction');
  const stillTrue = correction.kind === 'correction' ? isPublic(release, ctx.clock.now()) : correction.kind === 'withdrawal' && release.status === 'withdrawn';
  if (!stillTrue) {
    throw conflict(
      correction.kind === 'minor'
        ? 'A minor edit is not notified; only a correction or the withdrawal is.'
        : 'The release is no longer public: notify its withdrawal instead.',
      { code: 'not-notifiable' },
    );
  }
  const deliveryIds = await claimNotice(ctx.db, correction.id, release.id, isoTime(ctx.clock.now()));
  if (!deliveryIds) throw conflict('Those who received the release were already notified of this change.', { code: 'already-notified' });
  await ctx.deliveries.addBulk(noticeJobs(release.id, correction.id, deliveryIds, sendBatchSize(ctx.config), 'notice'));
  return { correctionId: correction.id, recipients: deliveryIds.length };
}

/** A release's notices per notified change, as the delivery report shows them. */
export async function noticeReport(ctx: AppContext, releaseId: string) {
  const [corrections, counts] = await Promise.all([notifiedCorrections(ctx.db, releaseId), noticeCounts(ctx.db, releaseId)]);
  return corrections.map((c) => {
      const mine = counts.filter((n) => n.correctionId === c.id);
      const of = (...states: string[]) => mine.filter((n) => states.includes(n.status)).reduce((sum, n) => sum + n.count, 0);
      return {
        correctionId: c.id,
        kind: c.kind as CorrectionKind,
        requestedAt: c.claimedAt,
        total: of('queued', 'sending', 'sent', 'failed', 'skipped'),
        queued: of('queued', 'sending'),
        sent: of('sent'),
        failed: of('failed'),
        skipped: of('skipped'),
      };
    });
}

/**
 * Sets notices going again when their process or job was lost: claims of a dead worker,
 * and queued notices (all of them when Redis may have lost every job, else those idle long).
 */
export async function recoverNotices(ctx: AppContext, everything: boolean): Promise<number> {
  const now = ctx.clock.now();
  await releaseStaleNoticeClaims(ctx.db, isoTime(new Date(now.getTime() - ctx.config.deliveryClaimTimeoutMs)), isoTime(now));
  const queued = await queuedNotices(ctx.db, everything ? undefined : isoTime(new Date(now.getTime() - IDLE_QUEUED_MS)));
  const groups = new Map<string, { releaseId: string; ids: string[] }>();
  for (const n of queued) {
    const group = groups.get(n.correctionId) ?? { releaseId: n.releaseId, ids: [] };
    group.ids.push(n.deliveryId);
    groups.set(n.correctionId, group);
  }
  const kind = `noticerequeue${Date.now()}`;
  for (const [correctionId, { releaseId, ids }] of groups) {
    await ctx.deliveries.addBulk(noticeJobs(releaseId, correctionId, ids, sendBatchSize(ctx.config), kind));
  }
  return queued.length;
}
