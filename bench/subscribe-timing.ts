/*
 * Issue 14, item 13: the time a subscribe request takes must not tell whether the address
 * was asked in the last 5 minutes. Measures the subscribe operation (what the public route
 * runs after validation) for three kinds of address, interleaved at random so that drift of
 * a busy machine falls on all alike: new ones, known ones not asked lately, and ones asked
 * a moment ago. Each request comes from an IP of its own, so the per-IP limit (which
 * depends on the asker, not the address) stays out of it. Part of `npm run bench:hostile`.
 */
import type { AppContext } from '../src/context.js';
import { findNewsroomBySlug } from '../src/newsrooms/repository.js';
import { requestSubscription } from '../src/subscriptions/operations.js';

const kinds = ['new address', 'known, not asked lately', 'asked a moment ago'] as const;
type Kind = (typeof kinds)[number];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** Prints the table; returns the p50 of "asked a moment ago" over that of "known, not asked lately". */
export async function subscribeTiming(ctx: AppContext, slug: string, perKind = Number(process.env.BENCH_SUBSCRIBES ?? 300)): Promise<number> {
  const newsroom = (await findNewsroomBySlug(ctx.db, slug))!;
  let ips = 0;
  const subscribe = (email: string) =>
    requestSubscription(ctx, newsroom, { email, languages: ['fi'], keywords: [] }, `10.${(++ips >> 16) & 255}.${(ips >> 8) & 255}.${ips & 255}`);
  const addresses = (kind: string) => Array.from({ length: perKind }, (_, i) => `${kind}-${i}-${process.pid}@bench.example`);

  const known = addresses('known');
  const recent = addresses('recent');
  for (const email of [...known, ...recent]) await subscribe(email);
  // The known ones were asked an hour ago, as far as the per-address limit can tell.
  const anHourAgo = new Date(ctx.clock.now().getTime() - 3_600_000).toISOString();
  await ctx.db.updateTable('subscribers').set({ confirmation_requested_at: anHourAgo }).where('email', 'in', known).execute();

  const queue: [Kind, string][] = [
    ...addresses('new').map((email): [Kind, string] => ['new address', email]),
    ...known.map((email): [Kind, string] => ['known, not asked lately', email]),
    ...recent.map((email): [Kind, string] => ['asked a moment ago', email]),
  ].sort(() => Math.random() - 0.5);
  // Warm-up: JIT and connections, on addresses of no kind measured.
  for (const email of addresses('warm-up').slice(0, 50)) await subscribe(email);

  const times = new Map<Kind, number[]>(kinds.map((kind) => [kind, []]));
  for (const [kind, email] of queue) {
    const started = performance.now();
    await subscribe(email);
    times.get(kind)!.push(performance.now() - started);
  }

  const baseline = percentile(times.get('known, not asked lately')!, 50);
  console.log(`\nSubscribe operation (ms), ${perKind} requests per kind, interleaved; ratio = p50 / p50 of "known, not asked lately"\n`);
  console.log(`| ${'address'.padEnd(24)} |    p50 |    p90 |  ratio |`);
  console.log(`|${'-'.repeat(26)}|--------|--------|--------|`);
  for (const [kind, values] of times) {
    const p50 = percentile(values, 50);
    console.log(`| ${kind.padEnd(24)} | ${p50.toFixed(2).padStart(6)} | ${percentile(values, 90).toFixed(2).padStart(6)} | ${(p50 / baseline).toFixed(2).padStart(6)} |`);
  }
  await ctx.subscriptionMail.queue.obliterate({ force: true }).catch(() => undefined);
  return percentile(times.get('asked a moment ago')!, 50) / baseline;
}
