export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** ISO 8601 in UTC with milliseconds: the one form times take in the database and the API. */
export function isoTime(date: Date): string {
  return date.toISOString();
}
