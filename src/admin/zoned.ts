/*
 * `datetime-local` values (wall-clock time without a zone) read in, and written for,
 * a newsroom's time zone.
 */

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** The wall-clock time in `zone` at `instant`, as milliseconds of a UTC-based count. */
function wallClock(instant: number, zone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(instant))
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/**
 * The instant at which the clocks in `zone` read `local`; undefined if it is not a
 * date and time. A time that a spring-forward change skips moves forward by the gap.
 */
export function zonedToInstant(local: string, zone: string): Date | undefined {
  const m = LOCAL.exec(local.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((part) => Number(part ?? 0)) as number[];
  const asUtc = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  const check = new Date(asUtc);
  if (check.getUTCMonth() !== mo! - 1 || check.getUTCDate() !== d! || h! > 23 || mi! > 59 || s! > 59) return undefined;
  // Offset at the guess, then again at the result (they differ across a DST change).
  let instant = asUtc - (wallClock(asUtc, zone) - asUtc);
  instant = asUtc - (wallClock(instant, zone) - instant);
  return new Date(instant);
}

/** `YYYY-MM-DDTHH:MM` in `zone`, the value a datetime-local input takes. */
export function instantToZoned(iso: string, zone: string): string {
  return new Date(wallClock(Date.parse(iso), zone)).toISOString().slice(0, 16);
}
