import { randomUUID } from 'node:crypto';
import { authorizeNewsroom } from '../auth/authorize.js';
import { createContact } from '../contacts/operations.js';
import type { Contact } from '../contacts/repository.js';
import { contactIdsIn } from '../contacts/repository.js';
import type { CreateContactInput } from '../contacts/schemas.js';
import type { AppContext } from '../context.js';
import type { Transaction } from 'kysely';
import { type Db, inTransaction } from '../lib/db/database.js';
import type { Database } from '../lib/db/schema.js';
import { conflict, type FieldError, notFound, unprocessable } from '../lib/errors.js';
import { renderMarkdown } from '../lib/html.js';
import type { Principal } from '../lib/routes.js';
import { foreignLanguages } from '../lib/schemas.js';
import { isoTime } from '../lib/time.js';
import type { Newsroom } from '../newsrooms/repository.js';
import { dispatchEvents } from '../aggregators/dispatch.js';
import { recordAdvanceUpdate } from '../advance/updates.js';
import { recordReleaseEvents, type ReleaseEventKind } from '../publication/events.js';
import {
  changeStatus,
  deleteReleaseRow,
  findRelease,
  insertCorrection,
  insertRelease,
  listReleases,
  type Release,
  type ReleaseContent,
  type ReleaseEvent,
  type StatusChange,
  type Translation,
  updateReleaseContent,
} from './repository.js';
import { changedFields, checkWithdrawalReason, editRecord } from './corrections.js';
import type { CreateReleaseInput, EventInput, UpdateReleaseInput } from './schemas.js';
import { effectiveStatus, isPublic, type ReleaseStatus } from './visibility.js';

/** Loads a release for staff: 404 if unknown, 403 if the principal is of another newsroom. */
export async function getReleaseForStaff(ctx: AppContext, id: string, principal: Principal | undefined): Promise<Release> {
  const release = await findRelease(ctx.db, id);
  if (!release) throw notFound('Release');
  authorizeNewsroom(principal, release.newsroomId);
  return release;
}

/** A newsroom's releases for staff, newest first; `search` matches titles (any case). */
export async function listReleasesForStaff(
  ctx: AppContext,
  newsroom: Newsroom,
  filter: { status?: ReleaseStatus; search?: string; limit: number; offset: number },
): Promise<Release[]> {
  return listReleases(ctx.db, newsroom.id, { ...filter, now: isoTime(ctx.clock.now()) });
}

type TranslationInput = { title: string; lead: string; body: string };

/** An event as given in a request (times as Dates), as stored. */
const storedEvent = (event: EventInput): ReleaseEvent => ({
  startsAt: isoTime(event.startsAt),
  endsAt: event.endsAt && isoTime(event.endsAt),
  place: event.place,
  onlineUrl: event.onlineUrl,
});

/** Trims, folds inner white space and drops repeats (case-insensitively), keeping order. */
function normaliseKeywords(keywords: Record<string, string[]>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [lang, list] of Object.entries(keywords)) {
    const seen = new Set<string>();
    const kept = list
      .map((k) => k.trim().replace(/\s+/g, ' '))
      .filter((k) => !seen.has(k.toLowerCase()) && seen.add(k.toLowerCase()));
    if (kept.length) result[lang] = kept;
  }
  return result;
}

/**
 * Builds the content to store from what the client sent, checking the rules that
 * need the newsroom: languages it has, contacts that are its own.
 */
async function buildContent(
  db: Db,
  newsroom: Newsroom,
  input: {
    type: string;
    translations: Record<string, TranslationInput>;
    keywords: Record<string, string[]>;
    contactIds: string[];
    event: ReleaseEvent | null;
  },
  previous: Translation[] = [],
): Promise<ReleaseContent> {
  const errors: FieldError[] = [
    ...foreignLanguages('translations', input.translations, newsroom.languages),
    ...foreignLanguages('keywords', input.keywords, newsroom.languages),
  ];
  if (input.event && input.type !== 'invitation') {
    errors.push({
      path: 'event',
      message: `only an invitation has an event; this release is a ${input.type} (remove the event with "event": null, or make it an invitation)`,
      code: 'event_not_invitation',
      params: { type: input.type },
    });
  }
  if (Object.keys(input.translations).length === 0) {
    errors.push({ path: 'translations', message: 'a release needs at least one language', code: 'no_language' });
  }
  const contactIds = [...new Set(input.contactIds)];
  const known = await contactIdsIn(db, newsroom.id, contactIds);
  contactIds.forEach((id, index) => {
    if (!known.has(id)) errors.push({ path: `contactIds.${index}`, message: 'no such contact in this newsroom', code: 'unknown_contact' });
  });
  if (errors.length) throw unprocessable('The release does not fit its newsroom.', errors);

  const translations = await Promise.all(
    newsroom.languages.flatMap((lang) => {
      const t = input.translations[lang];
      if (!t) return [];
      // Render Markdown only when it changed: it is the one costly step of a save.
      const before = previous.find((p) => p.lang === lang && p.body === t.body);
      const bodyHtml = before ? Promise.resolve(before.bodyHtml) : renderMarkdown(t.body, { field: `translations.${lang}.body`, newsroom: newsroom.id });
      return [bodyHtml.then((html) => ({ lang, title: t.title, lead: t.lead, body: t.body, bodyHtml: html }))];
    }),
  );
  return { type: input.type, translations, keywords: normaliseKeywords(input.keywords), contactIds, event: input.event };
}

export async function createRelease(ctx: AppContext, newsroom: Newsroom, input: CreateReleaseInput): Promise<Release> {
  const content = await buildContent(ctx.db, newsroom, { ...input, event: input.event && storedEvent(input.event) });
  const id = randomUUID();
  await insertRelease(ctx.db, { id, newsroomId: newsroom.id, now: isoTime(ctx.clock.now()), ...content });
  return (await findRelease(ctx.db, id))!;
}

const changedMeanwhile = () => conflict('The release was changed by someone else meanwhile; load it again and retry.', { code: 'changed-meanwhile' });

async function reload(db: Db, id: string): Promise<Release> {
  const release = await findRelease(db, id);
  if (!release) throw notFound('Release');
  return release;
}

/**
 * An edit of a public release is a correction or a minor edit (`input.change`, required
 * then): recorded with what it changed, in the edit's transaction. One that changes nothing
 * records nothing and leaves the release as it was.
 *
 * `expectedVersion`: the version the editor read (a form carries it across requests);
 * an edit of a release changed since then is a 409 rather than an overwrite. `db`: the
 * caller's transaction, when the edit is one of several writes.
 */
export async function updateRelease(
  ctx: AppContext,
  newsroom: Newsroom,
  release: Release,
  input: UpdateReleaseInput,
  options: { expectedVersion?: number; db?: Db } = {},
): Promise<Release> {
  const db = options.db ?? ctx.db;
  const version = options.expectedVersion ?? release.version;
  if (version !== release.version) throw changedMeanwhile();
  if (release.status === 'withdrawn') throw conflict('A withdrawn release cannot be edited.', { code: 'release-withdrawn' });
  const translations: Record<string, TranslationInput> = Object.fromEntries(
    release.translations.map((t) => [t.lang, { title: t.title, lead: t.lead, body: t.body }]),
  );
  const missingTitles: FieldError[] = [];
  for (const [lang, given] of Object.entries(input.translations ?? {})) {
    if (given === null) {
      delete translations[lang];
      continue;
    }
    const merged = { title: '', lead: '', body: '', ...translations[lang], ...given };
    if (!merged.title) missingTitles.push({ path: `translations.${lang}.title`, message: 'a new language needs a title', code: 'new_language_title' });
    translations[lang] = merged;
  }
  if (missingTitles.length) throw unprocessable('A new language needs a title.', missingTitles);
  const content = await buildContent(
    db,
    newsroom,
    {
      type: input.type ?? release.type,
      translations,
      keywords: { ...release.keywords, ...input.keywords },
      contactIds: input.contactIds ?? release.contacts.map((c) => c.id),
      event: input.event === undefined ? release.event : input.event && storedEvent(input.event),
    },
    release.translations,
  );
  const now = ctx.clock.now();
  const record = editRecord(input.change, isPublic(release, now), content.translations.map((t) => t.lang));
  if (input.notifyJournalists && effectiveStatus(release, now) !== 'scheduled') {
    throw unprocessable('Journalists are told of an update before publication only: the release is not scheduled.', [
      { path: 'notifyJournalists', message: 'only for a scheduled release, before its publication time', code: 'notify_not_scheduled' },
    ]);
  }
  const fields = changedFields(release, content);
  if (record && fields.length === 0) return release;
  let update: string | undefined;
  await inTransaction(db, async (trx) => {
    if (!(await updateReleaseContent(trx, release.id, version, content, isoTime(now), record && { ...record, fields }))) {
      throw changedMeanwhile();
    }
    // An edit of a public release is a change aggregators are told of (see publication/events.ts).
    if (record) await recordReleaseEvents(trx, [release.id], 'corrected', isoTime(now));
    // The journalists holding live advance links, told of this edit once (advance/updates.ts).
    if (input.notifyJournalists && fields.length) update = await recordAdvanceUpdate(trx, release.id, fields, isoTime(now));
  });
  if (update) await ctx.advance.sendUpdate(release.id, update);
  return reload(db, release.id);
}

/**
 * Creates a contact and names it on the release, in one transaction: either both are
 * written or neither (a release changed since `expectedVersion` is a 409, and no contact
 * is left behind).
 */
export async function addNewContact(
  ctx: AppContext,
  newsroom: Newsroom,
  release: Release,
  input: CreateContactInput,
  expectedVersion: number,
): Promise<{ contact: Contact; release: Release }> {
  return ctx.db.transaction().execute(async (trx) => {
    const contact = await createContact(ctx, newsroom, input, trx);
    const contactIds = [...release.contacts.map((c) => c.id), contact.id];
    // Naming one more contact on a public release corrects nothing it said.
    const change = isPublic(release, ctx.clock.now()) ? { kind: 'minor' as const } : undefined;
    return { contact, release: await updateRelease(ctx, newsroom, release, { contactIds, change }, { expectedVersion, db: trx }) };
  });
}

export async function deleteRelease(ctx: AppContext, release: Release): Promise<void> {
  if (release.status !== 'draft') throw conflict(`Only drafts can be deleted; this release is ${effectiveStatus(release, ctx.clock.now())}.`);
  // Its attachments' files go with the blob clean-up (attachments/blobs.ts), never here.
  if (!(await deleteReleaseRow(ctx.db, release.id, release.version))) throw changedMeanwhile();
}

/* Lifecycle: draft -> scheduled -> published -> withdrawn, and scheduled -> draft. */

function requireStatus(release: Release, now: Date, allowed: ReleaseStatus[], action: string): ReleaseStatus {
  const status = effectiveStatus(release, now);
  if (!allowed.includes(status)) throw conflict(`A ${status} release cannot be ${action}.`);
  return status;
}

async function transition(
  ctx: AppContext,
  release: Release,
  change: StatusChange,
  now: Date,
  options: { guardNotDue?: boolean; event?: ReleaseEventKind; also?: (trx: Transaction<Database>) => Promise<unknown> } = {},
): Promise<Release> {
  const nowIso = isoTime(now);
  const events = await ctx.db.transaction().execute(async (trx) => {
    if (!(await changeStatus(trx, release.id, release.version, change, nowIso, options.guardNotDue ? nowIso : undefined))) {
      throw changedMeanwhile();
    }
    await options.also?.(trx);
    return options.event ? recordReleaseEvents(trx, [release.id], options.event, nowIso) : [];
  });
  // Queued now when Redis is there; else the worker's sweep does it.
  if (events.length) await dispatchEvents(ctx, events).catch((err) => ctx.logger.error({ err }, 'release events not dispatched; the sweep tries again'));
  return reload(ctx.db, release.id);
}

/** Further ahead than this many calendar years, a publication time is a typing mistake (a year 2206 for 2026). */
const MAX_SCHEDULE_AHEAD_YEARS = 5;

/** The latest publication time taken at `now`: the same moment, MAX_SCHEDULE_AHEAD_YEARS later (29 February: 1 March). */
function latestPublishAt(now: Date): Date {
  const latest = new Date(now);
  latest.setUTCFullYear(latest.getUTCFullYear() + MAX_SCHEDULE_AHEAD_YEARS);
  return latest;
}

export async function scheduleRelease(ctx: AppContext, release: Release, publishAt: Date): Promise<Release> {
  const now = ctx.clock.now();
  requireStatus(release, now, ['draft', 'scheduled'], 'scheduled');
  if (publishAt.getTime() <= now.getTime()) {
    throw unprocessable('The publication time must be in the future.', [
      { path: 'publishAt', message: 'must be in the future', code: 'not_in_future' },
    ]);
  }
  if (publishAt.getTime() > latestPublishAt(now).getTime()) {
    throw unprocessable('The publication time is too far ahead.', [
      { path: 'publishAt', message: `must be at most ${MAX_SCHEDULE_AHEAD_YEARS} years ahead`, code: 'too_far_ahead', params: { years: MAX_SCHEDULE_AHEAD_YEARS } },
    ]);
  }
  const at = isoTime(publishAt);
  const updated = await transition(ctx, release, { status: 'scheduled', publishAt: at }, now, { guardNotDue: true });
  if (release.status === 'scheduled' && release.publishAt && release.publishAt !== at) {
    await ctx.publication.unschedule(release.id, release.publishAt);
  }
  await ctx.publication.schedule(release.id, at);
  return updated;
}

export async function unscheduleRelease(ctx: AppContext, release: Release): Promise<Release> {
  const now = ctx.clock.now();
  requireStatus(release, now, ['scheduled'], 'unscheduled');
  const updated = await transition(ctx, release, { status: 'draft', publishAt: null }, now, { guardNotDue: true });
  await ctx.publication.unschedule(release.id, release.publishAt!);
  return updated;
}

export async function publishRelease(ctx: AppContext, release: Release): Promise<Release> {
  const now = ctx.clock.now();
  requireStatus(release, now, ['draft', 'scheduled'], 'published');
  const at = isoTime(now);
  const updated = await transition(ctx, release, { status: 'published', publishAt: at, publishedAt: at }, now, { guardNotDue: true });
  if (release.status === 'scheduled') await ctx.publication.unschedule(release.id, release.publishAt!);
  // Nudges the publication worker, which announces the release (and so starts its email);
  // with Redis away its sweep does the same a moment later.
  await ctx.publication.schedule(release.id, at);
  return updated;
}

/** Withdraws a public release, recording the withdrawal with its public reason per language (none: `{}`). */
export async function withdrawRelease(ctx: AppContext, release: Release, reason: Record<string, string> = {}): Promise<Release> {
  const now = ctx.clock.now();
  requireStatus(release, now, ['published'], 'withdrawn');
  checkWithdrawalReason(reason, release.translations.map((t) => t.lang));
  const at = isoTime(now);
  return transition(ctx, release, { status: 'withdrawn', publishedAt: release.publishedAt ?? release.publishAt, withdrawnAt: at }, now, {
    event: 'withdrawn',
    also: (trx) => insertCorrection(trx, { id: randomUUID(), releaseId: release.id, kind: 'withdrawal', revision: release.revision, fields: [], note: reason, at }),
  });
}
