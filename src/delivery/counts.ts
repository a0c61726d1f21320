import type { AppContext } from '../context.js';
import { countDeliveryStates } from './repository.js';

const states = ['queued', 'sent', 'failed', 'skipped', 'bounced', 'complained'] as const;
type State = (typeof states)[number];
export type DeliveryCounts = Record<State | 'total', number>;

/**
 * The stored states as the contract's four (queued, sent, failed, skipped add up to the
 * total): a delivery being sent is still queued; one that bounced after the relay accepted
 * it failed, and one the recipient complained about was sent. Those two are also counted
 * on their own (`bounced`, `complained`).
 */
const within: Record<string, 'queued' | 'sent' | 'failed' | 'skipped'> = {
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  complained: 'sent',
  failed: 'failed',
  bounced: 'failed',
  skipped: 'skipped',
};

export function tally(rows: { status: string; count: number }[]): DeliveryCounts {
  const result: DeliveryCounts = { total: 0, queued: 0, sent: 0, failed: 0, skipped: 0, bounced: 0, complained: 0 };
  for (const row of rows) {
    const state = within[row.status];
    if (!state) continue;
    result[state] += row.count;
    result.total += row.count;
    if (row.status === 'bounced' || row.status === 'complained') result[row.status] += row.count;
  }
  return result;
}

/** A release's delivery counts by state (the staff app's lists show them). */
export async function deliveryCounts(ctx: AppContext, releaseId: string): Promise<DeliveryCounts> {
  return tally(await countDeliveryStates(ctx.db, releaseId));
}
