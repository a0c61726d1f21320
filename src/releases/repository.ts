import { type Contact, toContact } from '../contacts/repository.js';
import { type Db, type Dialect, inTransaction } from '../lib/db/database.js';
import { type ExpressionBuilder, type Selectable, type SqlBool, sql, type Transaction } from 'kysely';
import { htmlToText } from '../lib/html.js';
import type { AttachmentRow, Database, ReleaseCorrectionTable, ReleaseRow } from '../lib/db/schema.js';
import { hasStatus, type ReleaseStatus } from './visibility.js';

export interface Translation {
  lang: string;
  title: string;
  lead: string;
  body: string;
  bodyHtml: string;
}

/** When and where an invitation's event takes place. Times are ISO 8601 UTC. */
export interface ReleaseEvent {
  startsAt: string;
  endsAt: string | null;
  /** Where it takes place, as written; null for an event only online. */
  place: string | null;
  /** An https link to follow it online. */
  onlineUrl: string | null;
}

/** What a change after publication was: an edit (with a public note, or minor), or the withdrawal. */
export const correctionKinds = ['correction', 'minor', 'withdrawal'] as const;
export type CorrectionKind = (typeof correctionKinds)[number];

/** A change to a release after publication (see migration 0029), oldest first on a release. */
export interface Correction {
  id: string;
  kind: CorrectionKind;
  /** The release's revision after it. */
  revision: number;
  /** What an edit changed: `type`, `translations.fi.body`, `keywords.sv`, `contacts`, `event`, ... */
  fields: string[];
  /** Per language: a correction's note, a withdrawal's public reason (empty for none). */
  note: Record<string, string>;
  at: string;
  /** When staff had those who got the release notified of it; null until then. */
  noticeClaimedAt: string | null;
}

export interface Release {
  id: string;
  newsroomId: string;
  newsroomSlug: string;
  type: string;
  /** As stored; see visibility.ts for what the public sees. */
  status: string;
  publishAt: string | null;
  publishedAt: string | null;
  withdrawnAt: string | null;
  version: number;
  /** The version of the public content: 1 at publication, one more per edit while public. */
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** An invitation's event, if it has one. */
  event: ReleaseEvent | null;
  /** In the newsroom's language order; the first is the release's first language. */
  translations: Translation[];
  keywords: Record<string, string[]>;
  contacts: Contact[];
  attachments: AttachmentRow[];
  /** Its changes after publication, oldest first. */
  corrections: Correction[];
}

/** The parts of a release that editing rewrites. */
export type ReleaseContent = Pick<Release, 'type' | 'translations' | 'keywords' | 'event'> & { contactIds: string[] };

const eventOf = (row: ReleaseRow): ReleaseEvent | null =>
  row.event_starts_at === null
    ? null
    : { startsAt: row.event_starts_at, endsAt: row.event_ends_at, place: row.event_place, onlineUrl: row.event_online_url };

const eventColumns = (event: ReleaseEvent | null) => ({
  event_starts_at: event?.startsAt ?? null,
  event_ends_at: event?.endsAt ?? null,
  event_place: event?.place ?? null,
  event_online_url: event?.onlineUrl ?? null,
});

/**
 * The revision of a release edited at `now`: one more when it is public then (the edit
 * is a correction of what the public has seen), else as it was.
 */
export const revisionAfterEdit = (now: string) => (eb: ExpressionBuilder<Database, 'releases'>) =>
  eb.case().when(hasStatus('published', now)(eb)).then(eb('revision', '+', 1)).else(eb.ref('revision')).end();

/**
 * Loads whole releases with five queries however many there are. Without `withBodies`
 * the translations' Markdown and HTML are not read (they are most of a release's bytes)
 * and come back empty: for lists that show titles only.
 */
async function hydrate(db: Db, rows: (ReleaseRow & { newsroom_slug: string })[], withBodies = true): Promise<Release[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const translationColumns = ['release_id', 'lang', 'title', 'lead'] as const;
  const [translations, keywords, contacts, attachments, corrections] = await Promise.all([
    withBodies
      ? db.selectFrom('release_translations').selectAll().where('release_id', 'in', ids).orderBy('position').execute()
      : db
          .selectFrom('release_translations')
          .select(translationColumns)
          .where('release_id', 'in', ids)
          .orderBy('position')
          .execute()
          .then((list) => list.map((t) => ({ ...t, body: '', body_html: '' }))),
    db.selectFrom('release_keywords').selectAll().where('release_id', 'in', ids).orderBy('position').execute(),
    db
      .selectFrom('release_contacts')
      .innerJoin('contacts', 'contacts.id', 'release_contacts.contact_id')
      .selectAll('contacts')
      .select('release_contacts.release_id')
      .where('release_contacts.release_id', 'in', ids)
      .orderBy('release_contacts.position')
      .execute(),
    db.selectFrom('attachments').selectAll().where('release_id', 'in', ids).orderBy('position').execute(),
    db.selectFrom('release_corrections').selectAll().where('release_id', 'in', ids).orderBy('created_at').orderBy('revision').execute(),
  ]);
  return rows.map((row) => {
    const keywordsByLang: Record<string, string[]> = {};
    for (const k of keywords.filter((k) => k.release_id === row.id)) (keywordsByLang[k.lang] ??= []).push(k.keyword);
    return {
      id: row.id,
      newsroomId: row.newsroom_id,
      newsroomSlug: row.newsroom_slug,
      type: row.type,
      status: row.status,
      publishAt: row.publish_at,
      publishedAt: row.published_at,
      withdrawnAt: row.withdrawn_at,
      version: row.version,
      revision: row.revision,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      event: eventOf(row),
      translations: translations
        .filter((t) => t.release_id === row.id)
        .map((t) => ({ lang: t.lang, title: t.title, lead: t.lead, body: t.body, bodyHtml: t.body_html })),
      keywords: keywordsByLang,
      contacts: contacts.filter((c) => c.release_id === row.id).map(({ release_id: _r, ...c }) => toContact(c)),
      attachments: attachments.filter((a) => a.release_id === row.id),
      corrections: corrections.filter((c) => c.release_id === row.id).map(toCorrection),
    };
  });
}

const toCorrection = (row: Selectable<ReleaseCorrectionTable>): Correction => ({
  id: row.id,
  kind: row.kind as CorrectionKind,
  revision: Number(row.revision),
  fields: JSON.parse(row.fields) as string[],
  note: JSON.parse(row.note) as Record<string, string>,
  at: row.created_at,
  noticeClaimedAt: row.notice_claimed_at,
});

/** Records a change after publication; `revision` is the release's after it. Joins `db`'s transaction. */
export async function insertCorrection(
  db: Db,
  correction: { id: string; releaseId: string; kind: CorrectionKind; revision: number; fields: string[]; note: Record<string, string>; at: string },
): Promise<void> {
  await db
    .insertInto('release_corrections')
    .values({
      id: correction.id,
      release_id: correction.releaseId,
      kind: correction.kind,
      revision: correction.revision,
      fields: JSON.stringify(correction.fields),
      note: JSON.stringify(correction.note),
      created_at: correction.at,
    })
    .execute();
}

const releasesWithSlug = (db: Db) =>
  db
    .selectFrom('releases')
    .innerJoin('newsrooms', 'newsrooms.id', 'releases.newsroom_id')
    .selectAll('releases')
    .select('newsrooms.slug as newsroom_slug');

export async function findRelease(db: Db, id: string): Promise<Release | undefined> {
  const row = await releasesWithSlug(db).where('releases.id', '=', id).executeTakeFirst();
  return row ? (await hydrate(db, [row]))[0] : undefined;
}

/** A release's row alone (no translations, contacts or files): enough to tell whether it is public, and its version. */
export async function findReleaseState(db: Db, id: string): Promise<{ status: string; publishAt: string | null; publishedAt: string | null; version: number } | undefined> {
  const row = await db.selectFrom('releases').select(['status', 'publish_at', 'published_at', 'version']).where('id', '=', id).executeTakeFirst();
  return row && { status: row.status, publishAt: row.publish_at, publishedAt: row.published_at, version: Number(row.version) };
}

export async function listReleases(
  db: Db,
  newsroomId: string,
  filter: { status?: ReleaseStatus; search?: string; now: string; limit: number; offset: number; withBodies?: boolean },
): Promise<Release[]> {
  let query = releasesWithSlug(db).where('releases.newsroom_id', '=', newsroomId);
  if (filter.status) query = query.where(hasStatus(filter.status, filter.now));
  if (filter.search) {
    // A title in any language containing the text; LIKE's wildcards in it are taken literally.
    const pattern = `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('release_translations')
          .select('release_translations.release_id')
          .whereRef('release_translations.release_id', '=', 'releases.id')
          .where(sql<boolean>`lower(release_translations.title) like ${pattern} escape '\\'`),
      ),
    );
  }
  const rows = await query
    .orderBy('releases.created_at', 'desc')
    .orderBy('releases.id')
    .limit(filter.limit)
    .offset(filter.offset)
    .execute();
  return hydrate(db, rows, filter.withBodies);
}

/** Search highlights are marked with these; indexed text must not contain them. */
export const MATCH_START = '\ue000';
export const MATCH_END = '\ue001';
const indexable = (text: string) => text.replace(/[\ue000\ue001]/g, ' ');

/** The search index rows of a release's content, one per language (see migration 0005_search). */
function searchRows(releaseId: string, content: ReleaseContent) {
  return content.translations.map((t) => ({
    release_id: releaseId,
    lang: t.lang,
    title: indexable(t.title),
    lead: indexable(t.lead),
    body: indexable(htmlToText(t.bodyHtml, { lines: true })),
    keywords: indexable((content.keywords[t.lang] ?? []).join(' ')),
  }));
}

async function writeContent(trx: Transaction<Database>, releaseId: string, content: ReleaseContent): Promise<void> {
  await trx.deleteFrom('release_translations').where('release_id', '=', releaseId).execute();
  await trx.deleteFrom('release_keywords').where('release_id', '=', releaseId).execute();
  await trx.deleteFrom('release_contacts').where('release_id', '=', releaseId).execute();
  await trx.deleteFrom('release_search').where('release_id', '=', releaseId).execute();
  await trx
    .insertInto('release_translations')
    .values(
      content.translations.map((t, position) => ({
        release_id: releaseId,
        lang: t.lang,
        position,
        title: t.title,
        lead: t.lead,
        body: t.body,
        body_html: t.bodyHtml,
      })),
    )
    .execute();
  const keywords = Object.entries(content.keywords).flatMap(([lang, list]) =>
    list.map((keyword, position) => ({ release_id: releaseId, lang, position, keyword, keyword_key: keyword.toLowerCase() })),
  );
  if (keywords.length) await trx.insertInto('release_keywords').values(keywords).execute();
  await trx.insertInto('release_search').values(searchRows(releaseId, content)).execute();
  if (content.contactIds.length) {
    await trx
      .insertInto('release_contacts')
      .values(content.contactIds.map((contactId, position) => ({ release_id: releaseId, contact_id: contactId, position })))
      .execute();
  }
}

export async function insertRelease(
  db: Db,
  release: { id: string; newsroomId: string; now: string } & ReleaseContent,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('releases')
      .values({
        id: release.id,
        newsroom_id: release.newsroomId,
        type: release.type,
        status: 'draft',
        publish_at: null,
        published_at: null,
        withdrawn_at: null,
        created_at: release.now,
        updated_at: release.now,
        ...eventColumns(release.event),
      })
      .execute();
    await writeContent(trx, release.id, release);
  });
}

/** A correction or minor edit to record with an edit of a public release (its revision is the edit's). */
export type EditRecord = { id: string; kind: 'correction' | 'minor'; fields: string[]; note: Record<string, string> };

/**
 * Rewrites a release's content if nobody changed it since `version` was read, and records
 * `record` (an edit of a public release) with the revision the edit gave it. Returns false
 * when the release changed meanwhile. Joins `db`'s transaction when it is one.
 */
export async function updateReleaseContent(
  db: Db,
  id: string,
  version: number,
  content: ReleaseContent,
  now: string,
  record?: EditRecord,
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const updated = await trx
      .updateTable('releases')
      .set((eb) => ({
        type: content.type,
        ...eventColumns(content.event),
        updated_at: now,
        version: eb('version', '+', 1),
        revision: revisionAfterEdit(now)(eb),
      }))
      .where('id', '=', id)
      .where('version', '=', version)
      .returning('revision')
      .executeTakeFirst();
    if (!updated) return false;
    await writeContent(trx, id, content);
    if (record) await insertCorrection(trx, { ...record, releaseId: id, revision: Number(updated.revision), at: now });
    return true;
  });
}

export interface StatusChange {
  status: ReleaseStatus;
  publishAt?: string | null;
  publishedAt?: string | null;
  withdrawnAt?: string | null;
}

/**
 * Moves a release to a new status if nobody changed it since `version` was read and,
 * with `notDueBy`, only while its publication time is still ahead of that instant
 * (so a release that became public a moment ago is never pulled back).
 */
export async function changeStatus(
  db: Db,
  id: string,
  version: number,
  change: StatusChange,
  now: string,
  notDueBy?: string,
): Promise<boolean> {
  let query = db
    .updateTable('releases')
    .set((eb) => ({
      status: change.status,
      ...(change.publishAt !== undefined ? { publish_at: change.publishAt } : {}),
      ...(change.publishedAt !== undefined ? { published_at: change.publishedAt } : {}),
      ...(change.withdrawnAt !== undefined ? { withdrawn_at: change.withdrawnAt } : {}),
      updated_at: now,
      version: eb('version', '+', 1),
    }))
    .where('id', '=', id)
    .where('version', '=', version);
  if (notDueBy) {
    query = query.where((eb) => eb.or([eb('status', '<>', 'scheduled'), eb('publish_at', '>', notDueBy)]));
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Records as published the scheduled releases whose time has come (all of them, or
 * the one given). Their publication time stays the scheduled one, and updated_at is
 * untouched: nobody edited them. Returns the ids it changed.
 */
export async function markDuePublished(db: Db, now: string, releaseId?: string): Promise<string[]> {
  let query = db
    .updateTable('releases')
    .set((eb) => ({ status: 'published', published_at: eb.ref('publish_at'), version: eb('version', '+', 1) }))
    .where('status', '=', 'scheduled')
    .where('publish_at', '<=', now);
  if (releaseId) query = query.where('id', '=', releaseId);
  const rows = await query.returning('id').execute();
  return rows.map((r) => r.id);
}

export async function scheduledReleases(db: Db, now: string): Promise<{ id: string; publish_at: string }[]> {
  const rows = await db
    .selectFrom('releases')
    .select(['id', 'publish_at'])
    .where('status', '=', 'scheduled')
    .where('publish_at', '>', now)
    .execute();
  return rows.map((r) => ({ id: r.id, publish_at: r.publish_at! }));
}

export async function deleteReleaseRow(db: Db, id: string, version: number): Promise<boolean> {
  const result = await db
    .deleteFrom('releases')
    .where('id', '=', id)
    .where('version', '=', version)
    .where('status', '=', 'draft')
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export interface PublicListFilter {
  now: string;
  newsroomId?: string;
  /** Only releases written in this language. */
  lang?: string;
  /** Only releases with this keyword (any case) in `lang`, or in any language without one. */
  keyword?: string;
  limit: number;
  offset: number;
  /** False: translations without body and HTML (see hydrate). */
  withBodies?: boolean;
  /** Only invitations whose event ends (or, without an end, starts) at this time or later, soonest first. */
  eventsEndingFrom?: string;
}

/**
 * Public releases, newest publication first (events: soonest first). Call it through releases/public.ts, which
 * owns what "public" means for every reader.
 */
export async function listPublicReleaseRows(db: Db, filter: PublicListFilter): Promise<Release[]> {
  let query = releasesWithSlug(db).where(hasStatus('published', filter.now));
  if (filter.newsroomId) query = query.where('releases.newsroom_id', '=', filter.newsroomId);
  if (filter.lang) {
    const lang = filter.lang;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('release_translations')
          .select('release_translations.release_id')
          .whereRef('release_translations.release_id', '=', 'releases.id')
          .where('release_translations.lang', '=', lang),
      ),
    );
  }
  if (filter.keyword !== undefined) {
    const key = filter.keyword.toLowerCase();
    const lang = filter.lang;
    query = query.where((eb) => {
      let sub = eb
        .selectFrom('release_keywords')
        .select('release_keywords.release_id')
        .whereRef('release_keywords.release_id', '=', 'releases.id')
        .where('release_keywords.keyword_key', '=', key);
      if (lang) sub = sub.where('release_keywords.lang', '=', lang);
      return eb.exists(sub);
    });
  }
  if (filter.eventsEndingFrom !== undefined) {
    const from = filter.eventsEndingFrom;
    query = query
      .where('releases.type', '=', 'invitation')
      .where((eb) => eb(eb.fn.coalesce('releases.event_ends_at', 'releases.event_starts_at'), '>=', from))
      .orderBy('releases.event_starts_at');
  }
  const rows = await query
    .orderBy((eb) => eb.fn.coalesce('releases.published_at', 'releases.publish_at'), 'desc')
    .orderBy('releases.id')
    .limit(filter.limit)
    .offset(filter.offset)
    .execute();
  return hydrate(db, rows, filter.withBodies);
}

/**
 * What decides what the public sees of a newsroom (or of all newsrooms) right now: the
 * last public change (see below), how many releases are public, how many contacts there
 * are, and when the next scheduled release becomes public. Cheap enough to read per
 * request, so that caches in several processes agree on embargo without talking to each
 * other.
 *
 * `lastChange` is built from public data only, as it becomes Last-Modified and RSS
 * lastBuildDate: the publications and edits of public releases, withdrawals, the public
 * contacts (named on a public release) and the newsrooms. Editing a draft or a scheduled
 * release, or scheduling one, leaves it as it is. A deleted contact leaves no time
 * behind: its absence shows in the count.
 */
export async function publicState(
  db: Db,
  now: string,
  newsroomId?: string,
): Promise<{ lastChange: string | null; publicCount: number; nextPublication: string | null; contactCount: number }> {
  const scope = <T extends { where: (...args: any[]) => T }>(q: T, column: string): T =>
    newsroomId ? q.where(column, '=', newsroomId) : q;
  const [published, withdrawn, next, contacts, publicContacts, newsrooms] = await Promise.all([
    scope(
      db
        .selectFrom('releases')
        .select((eb) => [
          eb.fn.countAll<number>().as('count'),
          eb.fn.max(eb.fn.coalesce('published_at', 'publish_at')).as('published'),
          eb.fn.max('updated_at').as('edited'),
        ])
        .where(hasStatus('published', now)),
      'newsroom_id',
    ).executeTakeFirst(),
    scope(
      db.selectFrom('releases').select((eb) => eb.fn.max('withdrawn_at').as('last')).where('status', '=', 'withdrawn'),
      'newsroom_id',
    ).executeTakeFirst(),
    scope(
      db
        .selectFrom('releases')
        .select((eb) => eb.fn.min('publish_at').as('next'))
        .where('status', '=', 'scheduled')
        .where('publish_at', '>', now),
      'newsroom_id',
    ).executeTakeFirst(),
    scope(db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('count')), 'newsroom_id').executeTakeFirst(),
    scope(
      db
        .selectFrom('contacts')
        .innerJoin('release_contacts', 'release_contacts.contact_id', 'contacts.id')
        .innerJoin('releases', 'releases.id', 'release_contacts.release_id')
        .select((eb) => eb.fn.max('contacts.updated_at').as('last'))
        .where(hasStatus('published', now)),
      'contacts.newsroom_id',
    ).executeTakeFirst(),
    scope(db.selectFrom('newsrooms').select((eb) => eb.fn.max('updated_at').as('last')), 'id').executeTakeFirst(),
  ]);
  const times = [published?.published, published?.edited, withdrawn?.last, publicContacts?.last, newsrooms?.last].filter(
    (t): t is string => typeof t === 'string',
  );
  return {
    lastChange: times.length ? times.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b)) : null,
    publicCount: Number(published?.count ?? 0),
    nextPublication: (next?.next as string | null | undefined) ?? null,
    contactCount: Number(contacts?.count ?? 0),
  };
}

export interface SearchFilter {
  now: string;
  newsroomId: string;
  lang: string;
  /** Words (letters and digits only), each matched as a prefix; all must match. */
  words: string[];
  limit: number;
}

export interface SearchHit {
  release: Release;
  /** The title and a passage of the text, with matches between MATCH_START and MATCH_END. */
  title: string;
  snippet: string;
}

/** PostgreSQL's text search configuration for a language, as migration 0005 indexes it. */
const textSearchConfig = (lang: string) =>
  ({ fi: 'finnish', sv: 'swedish', en: 'english' })[lang] ?? 'simple';

/**
 * Public releases of a newsroom in one language matching all the words, best first, with
 * the database's own full-text search. Call it through releases/public.ts.
 */
export async function searchPublicReleaseRows(db: Db, dialect: Dialect, filter: SearchFilter): Promise<SearchHit[]> {
  if (filter.words.length === 0) return [];
  const base = releasesWithSlug(db)
    .innerJoin('release_search as rs', 'rs.release_id', 'releases.id')
    .where(hasStatus('published', filter.now))
    .where('releases.newsroom_id', '=', filter.newsroomId)
    .where('rs.lang', '=', filter.lang);
  let rows: (ReleaseRow & { newsroom_slug: string; hit_title: string; hit_snippet: string })[];
  if (dialect === 'postgres') {
    const config = textSearchConfig(filter.lang);
    const query = sql`to_tsquery(${config}::regconfig, ${filter.words.map((w) => `${w}:*`).join(' & ')})`;
    const options = `StartSel=${MATCH_START}, StopSel=${MATCH_END}`;
    rows = await base
      .select([
        sql<string>`ts_headline(${config}::regconfig, rs.title, ${query}, ${`${options}, HighlightAll=true`})`.as('hit_title'),
        sql<string>`ts_headline(${config}::regconfig, rs.lead || chr(10) || rs.body, ${query}, ${`${options}, MaxWords=35, MinWords=15`})`.as('hit_snippet'),
      ])
      .where(sql<SqlBool>`rs.document @@ ${query}`)
      .orderBy(sql`ts_rank(rs.document, ${query})`, 'desc')
      .orderBy('releases.id')
      .limit(filter.limit)
      .execute();
  } else {
    const match = filter.words.map((w) => `"${w}"*`).join(' ');
    rows = await base
      .innerJoin(sql`release_search_fts`.as('fts'), (join) => join.on(sql<SqlBool>`fts.rowid = rs.rowid`))
      .select([
        sql<string>`highlight(release_search_fts, 0, ${MATCH_START}, ${MATCH_END})`.as('hit_title'),
        sql<string>`snippet(release_search_fts, -1, ${MATCH_START}, ${MATCH_END}, '…', 24)`.as('hit_snippet'),
      ])
      .where(sql<SqlBool>`release_search_fts match ${match}`)
      // bm25: smaller is better; title and keywords weigh most.
      .orderBy(sql`bm25(release_search_fts, 10.0, 4.0, 1.0, 8.0)`)
      .orderBy('releases.id')
      .limit(filter.limit)
      .execute();
  }
  const releases = await hydrate(db, rows);
  return rows.map((row, i) => ({ release: releases[i]!, title: row.hit_title, snippet: row.hit_snippet }));
}

/**
 * Contacts named on the newsroom's public releases, most recently published first: the
 * contacts the public may see (a contact only on a draft or an embargoed release is not).
 */
export async function listPublicContactRows(
  db: Db,
  filter: { now: string; newsroomId: string; contactId?: string },
): Promise<Contact[]> {
  let query = db
    .selectFrom('contacts')
    .innerJoin('release_contacts', 'release_contacts.contact_id', 'contacts.id')
    .innerJoin('releases', 'releases.id', 'release_contacts.release_id')
    .selectAll('contacts')
    .select((eb) => eb.fn.max(eb.fn.coalesce('releases.published_at', 'releases.publish_at')).as('last_published'))
    .where(hasStatus('published', filter.now))
    .where('releases.newsroom_id', '=', filter.newsroomId)
    .where('contacts.newsroom_id', '=', filter.newsroomId)
    .groupBy(['contacts.id', 'contacts.newsroom_id', 'contacts.name', 'contacts.title', 'contacts.phone', 'contacts.email', 'contacts.created_at', 'contacts.updated_at']);
  if (filter.contactId) query = query.where('contacts.id', '=', filter.contactId);
  const rows = await query.orderBy('last_published', 'desc').orderBy('contacts.name').execute();
  return rows.map(({ last_published: _l, ...row }) => toContact(row));
}
