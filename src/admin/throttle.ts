/*
 * Slows down guessing tokens at the sign-in form: per client address, failures within
 * the window add a growing delay before the answer, and past MAX_FAILURES the form
 * answers 429 until the window has passed. In memory, bounded: the oldest address is
 * forgotten when the table is full. (Each process counts its own; tokens have 256 bits,
 * so this is about noise and load rather than the odds of a guess.)
 */

export interface ThrottleOptions {
  windowMs: number;
  maxFailures: number;
  /** Failures answered without delay. */
  freeFailures: number;
  stepDelayMs: number;
  maxDelayMs: number;
  maxAddresses: number;
}

export const signInThrottleDefaults: ThrottleOptions = {
  windowMs: 15 * 60 * 1000,
  maxFailures: 8,
  freeFailures: 3,
  stepDelayMs: 250,
  maxDelayMs: 3000,
  maxAddresses: 10_000,
};

export class SignInThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly now: () => number,
    private readonly options: ThrottleOptions = signInThrottleDefaults,
  ) {}

  private recent(address: string): number[] {
    const since = this.now() - this.options.windowMs;
    const list = (this.failures.get(address) ?? []).filter((at) => at > since);
    if (list.length) this.failures.set(address, list);
    else this.failures.delete(address);
    return list;
  }

  /** Seconds until the address may try again, when it is locked out. */
  lockedFor(address: string): number | undefined {
    const list = this.recent(address);
    if (list.length < this.options.maxFailures) return undefined;
    return Math.max(1, Math.ceil((list[0]! + this.options.windowMs - this.now()) / 1000));
  }

  /** Records a failure; returns how long to hold the answer back. */
  fail(address: string): number {
    const list = this.recent(address);
    list.push(this.now());
    this.failures.delete(address);
    this.failures.set(address, list);
    while (this.failures.size > this.options.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
    const over = list.length - this.options.freeFailures;
    return over > 0 ? Math.min(this.options.maxDelayMs, over * this.options.stepDelayMs) : 0;
  }

  succeed(address: string): void {
    this.failures.delete(address);
  }
}
