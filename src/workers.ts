import { startBlobSweeper } from './attachments/blobs.js';
import { startBounceMailbox } from './bounces/mailbox.js';
import { startBounceReceiver } from './bounces/receiver.js';
import type { AppContext } from './context.js';
import type { RunningWorker } from './lib/queue.js';
import { startPublicationWorker } from './publication/worker.js';
import { startDeliveryWorker } from './delivery/worker.js';
import { startSubscriptionMailWorker } from './subscriptions/mail.js';
import { startAdvanceWorker } from './advance/worker.js';
import { startAggregatorWorker } from './aggregators/worker.js';

/**
 * Every background worker of the worker role; main.ts starts them in order and closes
 * them all. Delivery and aggregators come first: publication may start a fan-out and dispatch events as soon as it starts.
 */
const workerStarters: ((ctx: AppContext) => Promise<RunningWorker>)[] = [
  startDeliveryWorker,
  startAggregatorWorker,
  startPublicationWorker,
  startSubscriptionMailWorker,
  startAdvanceWorker,
  startBlobSweeper,
  startBounceReceiver,
  startBounceMailbox,
];

export async function startWorkers(ctx: AppContext): Promise<RunningWorker[]> {
  const started: RunningWorker[] = [];
  for (const start of workerStarters) started.push(await start(ctx));
  return started;
}

export async function closeWorkers(workers: readonly RunningWorker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.close()));
}
