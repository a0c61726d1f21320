import type { AppContext } from '../context.js';
import { writeCounter } from '../lib/db/database.js';
import { gone, notFound } from '../lib/errors.js';
import { isoTime } from '../lib/time.js';
import type { Contact } from '../contacts/repository.js';
import {
  findRelease,
  findReleaseState,
  listPublicContactRows,
  listPublicReleaseRows,
  MATCH_END,
  MATCH_START,
  publicState,
  type Release,
  searchPublicReleaseRows,
} from './repository.js';
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

/** The public release, or undefined when it is not (or no longer) public: what email delivery reads, a withdrawal stops it. */
export async function publicReleaseOrNone(ctx: AppContext, id: string): Promise<PublicRelease | undefined> {
  const now = ctx.clock.now();
  const release = await findRelease(ctx.db, id);
  return release && effectiveStatus(release, now) === 'published' ? asPublic(release, now) : undefined;
}

/**
 * The version of a release that is public now, from its row alone, or undefined when it
 * is not (or no longer) public: what each batch of emails checks (a withdrawal stops the
 * rest); the whole release is read only to build its email.
 */
export async function publicVersion(ctx: AppContext, id: string): Promise<number | undefined> {
  const state = await findReleaseState(ctx.db, id);
  return state && effectiveStatus(state, ctx.clock.now()) === 'published' ? state.version : undefined;
}

/**
 * A scheduled release as the public will see it at its publication time, for work done
 * ahead of it (the delivery worker builds its email a few seconds early); never to be
 * shown before. Its version is then one more (markDuePublished counts the publication).
 * Undefined for a release not scheduled.
 */
export async function releaseAtPublication(ctx: AppContext, id: string): Promise<PublicRelease | undefined> {
  const release = await findRelease(ctx.db, id);
  if (!release || release.status !== 'scheduled' || release.publishAt === null) return undefined;
  const at = new Date(release.publishAt);
  return effectiveStatus(release, at) === 'published' ? { ...asPublic(release, at), version: release.version + 1 } : undefined;
}

/**
 * What the public may still know of a withdrawn release: that it was withdrawn, when, in
 * which newsroom and languages, and at which revision (for the 410 page and the canceled
 * ninjs). Undefined for a release in any other state.
 */
export interface WithdrawnRelease {
  id: string;
  newsroomId: string;
  languages: string[];
  /** Its titles per language, for those who received it (a withdrawal notice), never shown on its pages. */
  titles: Record<string, string>;
  revision: number;
  withdrawnAt: string;
  /** The public reason per language staff gave (empty for none). */
  reason: Record<string, string>;
}

const asWithdrawn = (release: Release): WithdrawnRelease => ({
  id: release.id,
  newsroomId: release.newsroomId,
  languages: release.translations.map((t) => t.lang),
  titles: Object.fromEntries(release.translations.map((t) => [t.lang, t.title])),
  revision: release.revision,
  // withdrawRelease records the time; a row withdrawn by other means has its last change.
  withdrawnAt: release.withdrawnAt ?? release.updatedAt,
  reason: release.corrections.findLast((c) => c.kind === 'withdrawal')?.note ?? {},
});

/** What the public may know of a withdrawn release, for its 410 page; undefined for a release in any other state. */
export async function withdrawal(ctx: AppContext, id: string): Promise<WithdrawnRelease | undefined> {
  const release = await findRelease(ctx.db, id);
  return release?.status === 'withdrawn' ? asWithdrawn(release) : undefined;
}

/** A release at a public address: public, withdrawn, or (embargoed, draft, unknown, elsewhere) missing. */
export type PublicLookup = { release: PublicRelease } | { withdrawn: WithdrawnRelease } | { missing: true };

/**
 * The release `id` as the public may see it at an address of newsroom `newsroomId` in
 * `lang`: a release of another newsroom, or without that language, is missing there.
 */
export async function lookUpPublicRelease(ctx: AppContext, id: string, at: { newsroomId: string; lang: string }): Promise<PublicLookup> {
  const now = ctx.clock.now();
  const release = await findRelease(ctx.db, id);
  if (!release || release.newsroomId !== at.newsroomId || !release.translations.some((t) => t.lang === at.lang)) return { missing: true };
  const status = effectiveStatus(release, now);
  if (status === 'published') return { release: asPublic(release, now) };
  if (status === 'withdrawn') return { withdrawn: asWithdrawn(release) };
  return { missing: true };
}

export interface PublicListOptions {
  newsroomId?: string;
  lang?: string;
  keyword?: string;
  limit: number;
  offset?: number;
  /** False: translations without body and HTML, for lists of titles (default true). */
  withBodies?: boolean;
  /** Only invitations whose event ends (or, without an end, starts) at this time or later, soonest first. */
  eventsEndingFrom?: string;
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
  /** The last public change (a publication, an edit, a withdrawal): public data only, see publicState. */
  lastModified: Date;
  /** When the next scheduled release becomes public: what is rendered under the stamp is stale from then on. Never sent out. */
  nextPublication: Date | null;
  /** When it was read: output cached under the stamp shows nothing published after it. */
  at?: Date;
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
    version: `${state.lastChange ?? '-'}|${state.publicCount}|${state.nextPublication ?? '-'}|${state.contactCount}`,
    lastModified,
    nextPublication: state.nextPublication ? new Date(state.nextPublication) : null,
    at: now,
  };
}

export { MATCH_END, MATCH_START };

export interface PublicSearchHit {
  release: PublicRelease;
  /** Title and a passage with the matched words between MATCH_START and MATCH_END. */
  title: string;
  snippet: string;
}

/** The words a search takes from what a reader typed: letters and digits only, at most ten. */
export const searchWords = (query: string): string[] =>
  [...new Set((query.normalize('NFC').match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.toLowerCase()))].slice(0, 10);

/** Published releases of a newsroom in one language that contain every word of `query`, best first. */
export async function searchPublicReleases(
  ctx: AppContext,
  options: { newsroomId: string; lang: string; query: string; limit: number },
): Promise<PublicSearchHit[]> {
  const now = ctx.clock.now();
  const hits = await searchPublicReleaseRows(ctx.db, ctx.store.dialect, {
    now: isoTime(now),
    newsroomId: options.newsroomId,
    lang: options.lang,
    words: searchWords(options.query),
    limit: options.limit,
  });
  return hits.map((hit) => ({ ...hit, release: asPublic(hit.release, now) }));
}

/** Contacts the public may see: those named on the newsroom's published releases, latest first. */
export async function listPublicContacts(ctx: AppContext, newsroomId: string): Promise<Contact[]> {
  return listPublicContactRows(ctx.db, { now: isoTime(ctx.clock.now()), newsroomId });
}

/** One contact if the public may see it (see listPublicContacts); else 404. */
export async function getPublicContact(ctx: AppContext, newsroomId: string, contactId: string): Promise<Contact> {
  const [contact] = await listPublicContactRows(ctx.db, { now: isoTime(ctx.clock.now()), newsroomId, contactId });
  if (!contact) throw notFound('Contact');
  return contact;
}

/**
 * listPublicReleases as `stamp` saw them: a release whose time came (or that was
 * published) after the stamp was read is left out, so that output cached under the
 * stamp's version shows exactly that state, even to a request racing a publication.
 */
export async function listPublicReleasesAsOf(
  ctx: AppContext,
  options: PublicListOptions,
  stamp: PublicStamp,
): Promise<PublicRelease[]> {
  const releases = await listPublicReleases(ctx, options);
  const at = stamp.at?.getTime();
  return at === undefined ? releases : releases.filter((r) => Date.parse(r.publishedAt) <= at);
}

const rememberedStamps = new WeakMap<AppContext, Map<string, { counter: string; stamp: PublicStamp }>>();

/**
 * publicStamp without the reading when nothing can have changed: the last stamp of the
 * scope is reused while the database has taken no write since it was read (from any
 * process: see writeCounter) and its next publication has not come. Otherwise (and
 * always on PostgreSQL) it is read afresh. The counter is read before the stamp, so a
 * remembered stamp is never older than the counter kept with it.
 */
export async function currentPublicStamp(ctx: AppContext, newsroomId?: string): Promise<PublicStamp> {
  const counter = writeCounter(ctx.store);
  if (counter === undefined) return publicStamp(ctx, newsroomId);
  let remembered = rememberedStamps.get(ctx);
  if (!remembered) rememberedStamps.set(ctx, (remembered = new Map()));
  const scope = newsroomId ?? '*';
  const hit = remembered.get(scope);
  const next = hit?.stamp.nextPublication;
  if (hit && hit.counter === counter && (!next || next.getTime() > ctx.clock.now().getTime())) return hit.stamp;
  const stamp = await publicStamp(ctx, newsroomId);
  remembered.set(scope, { counter, stamp });
  return stamp;
}

/**
 * What aggregators are told of a release whose publication, correction or withdrawal
 * they hear of: its newsroom, its pages' languages and titles, and its keywords. Only
 * of a release that is public or withdrawn (one that was public): undefined for an
 * embargoed, draft or unknown one.
 */
export interface AnnouncedRelease {
  id: string;
  newsroomId: string;
  newsroomSlug: string;
  pages: { lang: string; title: string }[];
  keywords: Record<string, string[]>;
}

export async function announcedRelease(ctx: AppContext, id: string): Promise<AnnouncedRelease | undefined> {
  const release = await findRelease(ctx.db, id);
  const status = release && effectiveStatus(release, ctx.clock.now());
  if (!release || (status !== 'published' && status !== 'withdrawn')) return undefined;
  return {
    id: release.id,
    newsroomId: release.newsroomId,
    newsroomSlug: release.newsroomSlug,
    pages: release.translations.map((t) => ({ lang: t.lang, title: t.title })),
    keywords: release.keywords,
  };
}
