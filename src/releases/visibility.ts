import { type ExpressionBuilder, type ExpressionWrapper, type SqlBool } from 'kysely';
import type { Database } from '../lib/db/schema.js';

/*
 * Whether a release is public is decided here, from its row alone: a release
 * scheduled for T is published from T on, whether or not any job has run. Every
 * reader (API, pages, feeds, files, sitemap) goes through these two functions.
 */

export const releaseStatuses = ['draft', 'scheduled', 'published', 'withdrawn'] as const;
export type ReleaseStatus = (typeof releaseStatuses)[number];

interface Timed {
  status: string;
  publishAt: string | null;
  publishedAt: string | null;
}

export function effectiveStatus(release: Timed, now: Date): ReleaseStatus {
  if (release.status === 'scheduled' && release.publishAt !== null && Date.parse(release.publishAt) <= now.getTime()) {
    return 'published';
  }
  return release.status as ReleaseStatus;
}

export function effectivePublishedAt(release: Timed, now: Date): string | null {
  return effectiveStatus(release, now) === 'published' || release.status === 'withdrawn'
    ? (release.publishedAt ?? release.publishAt)
    : release.publishedAt;
}

export const isPublic = (release: Timed, now: Date) => effectiveStatus(release, now) === 'published';

/** The same decision as effectiveStatus, as a SQL condition on the releases table. */
export function hasStatus(status: ReleaseStatus, nowIso: string) {
  return (eb: ExpressionBuilder<Database, 'releases'>): ExpressionWrapper<Database, 'releases', SqlBool> => {
    const due = eb.and([eb('releases.status', '=', 'scheduled'), eb('releases.publish_at', '<=', nowIso)]);
    switch (status) {
      case 'published':
        return eb.or([eb('releases.status', '=', 'published'), due]);
      case 'scheduled':
        return eb.and([eb('releases.status', '=', 'scheduled'), eb('releases.publish_at', '>', nowIso)]);
      default:
        return eb('releases.status', '=', status);
    }
  };
}
