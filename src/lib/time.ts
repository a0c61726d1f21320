export interface Clock {
  now(): Date;
  /** Stops what the clock keeps running (the database clock's measuring). */
  close?(): void;
}


/**
 * ISO 8601 in UTC with milliseconds, always 24 characters: the one form times take in
 * the database and the API. SQLite compares times as text, so a wider form (year 10000
 * is written `+010000-...`) would sort wrongly: such a time is a bug, never stored.
 */
export function isoTime(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`time out of range: ${date.getTime()}`);
  return date.toISOString();
}
