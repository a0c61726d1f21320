import type { AppContext } from '../context.js';
import { isoTime } from '../lib/time.js';
import { deleteSignInFailures, deleteSignInFailuresBefore, insertSignInFailure, recentSignInFailures } from './repository.js';
import { mac } from './session.js';

/*
 * Slows down guessing tokens at the sign-in form: per client address, failures within
 * the window add a growing delay before the answer, and past maxFailures the form
 * answers 429 until the window has passed. Failures are counted in the database, so a
 * guesser meets the same count on every web machine behind the load balancer. (Tokens
 * have 256 bits: this is about noise and load rather than the odds of a guess.)
 */

export interface ThrottleOptions {
  windowMs: number;
  maxFailures: number;
  /** Failures answered without delay. */
  freeFailures: number;
  stepDelayMs: number;
  maxDelayMs: number;
}

export const signInThrottleDefaults: ThrottleOptions = {
  windowMs: 15 * 60 * 1000,
  maxFailures: 8,
  freeFailures: 3,
  stepDelayMs: 250,
  maxDelayMs: 3000,
};

export interface SignInThrottle {
  /** Seconds until the address may try again, when it is locked out. */
  lockedFor(address: string): Promise<number | undefined>;
  /** Records a failure; returns how long to hold the answer back, in milliseconds. */
  fail(address: string): Promise<number>;
  succeed(address: string): Promise<void>;
}

export function signInThrottle(ctx: AppContext, options: ThrottleOptions = signInThrottleDefaults): SignInThrottle {
  // Keyed, so that the table holds no client address.
  const keyOf = (address: string) => mac(ctx, 'sign-in', address);
  const windowStart = (now: number) => isoTime(new Date(now - options.windowMs));

  return {
    async lockedFor(address) {
      const now = ctx.clock.now().getTime();
      const recent = await recentSignInFailures(ctx.db, keyOf(address), windowStart(now), options.maxFailures);
      if (recent.length < options.maxFailures) return undefined;
      // Locked until the failure that made the count leaves the window.
      const until = Date.parse(recent[options.maxFailures - 1]!) + options.windowMs;
      return Math.max(1, Math.ceil((until - now) / 1000));
    },
    async fail(address) {
      const now = ctx.clock.now().getTime();
      const key = keyOf(address);
      await insertSignInFailure(ctx.db, key, isoTime(new Date(now)));
      await deleteSignInFailuresBefore(ctx.db, windowStart(now));
      const count = (await recentSignInFailures(ctx.db, key, windowStart(now), options.maxFailures)).length;
      const over = count - options.freeFailures;
      return over > 0 ? Math.min(options.maxDelayMs, over * options.stepDelayMs) : 0;
    },
    async succeed(address) {
      await deleteSignInFailures(ctx.db, keyOf(address));
    },
  };
}
