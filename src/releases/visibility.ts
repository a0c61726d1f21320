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

/** What a personal advance link shows (see src/advance/). */
export type AdvanceLinkView = 'embargoed' | 'public' | 'closed';

interface AdvanceLinkState {
  /** When this link, or all of the release's advance access, was taken back; null while live. */
  revokedAt: string | null;
  accessRevokedAt: string | null;
  /** False once the journalist is suspended or removed. */
  journalistActive: boolean;
}

/**
 * The one exception to the embargo: a live personal link shows its journalist the
 * release while it is still scheduled. Once the release is public (or withdrawn) the link
 * only leads to the public page, which says what became of it; a revoked link, a
 * suspended or removed journalist, or a release taken back to draft shows nothing.
 */
export function advanceLinkView(release: Timed, link: AdvanceLinkState, now: Date): AdvanceLinkView {
  const status = effectiveStatus(release, now);
  if (status === 'published' || status === 'withdrawn') return 'public';
  if (status === 'scheduled' && link.revokedAt === null && link.accessRevokedAt === null && link.journalistActive) return 'embargoed';
  return 'closed';
}
