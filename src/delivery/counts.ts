import type { AppContext } from '../context.js';
import { countDeliveryStates } from './repository.js';

const states = ['queued', 'sent', 'failed', 'skipped'] as const;
type State = (typeof states)[number];
export type DeliveryCounts = Record<State | 'total', number>;

/** The counts of the five stored states as the contract's four: a delivery being sent is still queued. */
export function tally(rows: { status: string; count: number }[]): DeliveryCounts {
  const result: DeliveryCounts = { total: 0, queued: 0, sent: 0, failed: 0, skipped: 0 };
  for (const row of rows) {
    const state = (row.status === 'sending' ? 'queued' : row.status) as State;
    if (!(state in result)) continue;
    result[state] += row.count;
    result.total += row.count;
  }
  return result;
}

/** A release's delivery counts by state (the staff app's lists show them). */
export async function deliveryCounts(ctx: AppContext, releaseId: string): Promise<DeliveryCounts> {
  return tally(await countDeliveryStates(ctx.db, releaseId));
}
