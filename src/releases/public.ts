import type { AppContext } from '../context.js';
import { gone, notFound } from '../lib/errors.js';
import { isoTime } from '../lib/time.js';
import { findRelease, listPublicReleaseRows, publicState, type Release } from './repository.js';
import { effectivePublishedAt, effectiveStatus } from './visibility.js';

/*
 * The public read face of releases: what the site, the feeds, delivery and publication
 * may see. Built on visibility.ts, so that embargo is decided in one place; none of them
 * reads the repository directly.
 */

/** A release as the public sees it: published, with its effective publication time. */
export interface PublicRelease extends Release {
  publishedAt: string;
}

const asPublic = (release: Release, now: Date): PublicRelease => ({
  ...release,
  status: 'published',
  publishedAt: effectivePublishedAt(release, now)!,
});

/** A published release; a withdrawn one is 410; anything else (embargoed, draft, unknown) 404 alike. */
export async function getPublicRelease(ctx: AppContext, id: string): Promise<PublicRelease> {
  const now = ctx.clock.now();
  const release = await findRelease(ctx.db, id);
  const status = release && effectiveStatus(release, now);
  if (release && status === 'published') return asPublic(release, now);
  if (release && status === 'withdrawn') throw gone('This release has been withdrawn.');
  throw notFound('Release');
}

/** The withdrawal time of a withdrawn release, for its 410 page; undefined for any other. */
export async function withdrawnAt(ctx: AppContext, id: string): Promise<string | undefined> {
  const release = await findRelease(ctx.db, id);
  return release?.status === 'withdrawn' ? (release.withdrawnAt ?? undefined) : undefined;
}

export interface PublicListOptions {
  newsroomId?: string;
  lang?: string;
  keyword?: string;
  limit: number;
  offset?: number;
  /** False: translations without body and HTML, for lists of titles (default true). */
  withBodies?: boolean;
}

/** Public releases, newest publication first. */
export async function listPublicReleases(ctx: AppContext, options: PublicListOptions): Promise<PublicRelease[]> {
  const now = ctx.clock.now();
  const releases = await listPublicReleaseRows(ctx.db, { ...options, offset: options.offset ?? 0, now: isoTime(now) });
  return releases.map((r) => asPublic(r, now));
}

export interface PublicStamp {
  /** Changes whenever anything the public sees of the scope may have changed. */
  version: string;
  /** The last change, or the last publication, whichever is later. */
  lastModified: Date;
  /** When the next scheduled release becomes public: nothing may be cached past it. */
  nextPublication: Date | null;
}

/**
 * The state of what the public sees of one newsroom, or of all: a cache key part that
 * holds across processes (it is read from the database), a Last-Modified, and the
 * moment after which any rendered list is stale.
 */
export async function publicStamp(ctx: AppContext, newsroomId?: string): Promise<PublicStamp> {
  const now = ctx.clock.now();
  const state = await publicState(ctx.db, isoTime(now), newsroomId);
  const lastModified = new Date(state.lastChange ? Date.parse(state.lastChange) : 0);
  return {
    version: `${state.lastChange ?? '-'}|${state.publicCount}|${state.nextPublication ?? '-'}`,
    lastModified,
    nextPublication: state.nextPublication ? new Date(state.nextPublication) : null,
  };
}
