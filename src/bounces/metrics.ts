import { Counter } from 'prom-client';
import { metricsRegistry } from '../delivery/metrics.js';

/** Bounces read by this process, by where they came from and what they were (forged ones too). */
export const bounceMetrics = new Counter({
  name: 'newsroom_bounces_total',
  help: 'Returned messages and provider events read (this process), by source and outcome',
  labelNames: ['source', 'outcome'],
  registers: [metricsRegistry],
});
