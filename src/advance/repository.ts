import type { Db } from '../lib/db/database.js';
import type { AdvanceLinkRow } from '../lib/db/schema.js';

export type Audience = 'all' | 'chosen';

export interface AdvanceAccess {
  releaseId: string;
  opensAt: string;
  audience: Audience;
  createdAt: string;
  updatedAt: string;
  revokedAt: string | null;
}

export async function findAdvanceAccess(db: Db, releaseId: string): Promise<AdvanceAccess | undefined> {
  const row = await db.selectFrom('advance_access').selectAll().where('release_id', '=', releaseId).executeTakeFirst();
  return (
    row && {
      releaseId: row.release_id,
      opensAt: row.opens_at,
      audience: row.audience as Audience,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      revokedAt: row.revoked_at,
    }
  );
}

/** Gives (or changes) a release's advance access; given again after it was taken back, it is live again. */
export async function saveAdvanceAccess(db: Db, access: { releaseId: string; opensAt: string; audience: Audience; now: string }): Promise<void> {
  await db
    .insertInto('advance_access')
    .values({ release_id: access.releaseId, opens_at: access.opensAt, audience: access.audience, created_at: access.now, updated_at: access.now, revoked_at: null })
    .onConflict((oc) => oc.column('release_id').doUpdateSet({ opens_at: access.opensAt, audience: access.audience, updated_at: access.now, revoked_at: null }))
    .execute();
}

/** Adds a link (not yet sent) for each journalist that has none to the release. */
export async function addLinks(
  db: Db,
  releaseId: string,
  journalists: readonly { id: string; name: string; outlet: string }[],
  newLinkId: () => string,
  now: string,
): Promise<void> {
  if (journalists.length === 0) return;
  await db
    .insertInto('advance_links')
    .values(
      journalists.map((j) => ({
        id: newLinkId(),
        release_id: releaseId,
        journalist_id: j.id,
        name: j.name,
        outlet: j.outlet,
        lang: null,
        token_hash: null,
        created_at: now,
        claimed_at: null,
        sent_at: null,
        failed_at: null,
        failure: null,
        revoked_at: null,
      })),
    )
    .onConflict((oc) => oc.columns(['release_id', 'journalist_id']).doNothing())
    .execute();
}

/** Forgets the links not yet sent to journalists no longer chosen. */
export async function dropUnsentLinksExcept(db: Db, releaseId: string, keepJournalistIds: readonly string[]): Promise<void> {
  let query = db.deleteFrom('advance_links').where('release_id', '=', releaseId).where('sent_at', 'is', null).where('claimed_at', 'is', null);
  if (keepJournalistIds.length) query = query.where('journalist_id', 'not in', [...keepJournalistIds]);
  await query.execute();
}

export async function listLinks(db: Db, releaseId: string): Promise<AdvanceLinkRow[]> {
  return db.selectFrom('advance_links').selectAll().where('release_id', '=', releaseId).orderBy('name').orderBy('id').execute();
}

export async function revokeLinksOfJournalist(db: Db, journalistId: string, now: string): Promise<void> {
  await db.updateTable('advance_links').set({ revoked_at: now }).where('journalist_id', '=', journalistId).where('revoked_at', 'is', null).execute();
}

export async function revokeLink(db: Db, releaseId: string, linkId: string, now: string): Promise<boolean> {
  const found = await db.selectFrom('advance_links').select('revoked_at').where('id', '=', linkId).where('release_id', '=', releaseId).executeTakeFirst();
  if (!found) return false;
  await db.updateTable('advance_links').set({ revoked_at: now }).where('id', '=', linkId).where('revoked_at', 'is', null).execute();
  return true;
}

/** Takes all of a release's advance access back: every link dies and none is sent any more. */
export async function revokeAllLinks(db: Db, releaseId: string, now: string): Promise<void> {
  await db.updateTable('advance_links').set({ revoked_at: now }).where('release_id', '=', releaseId).where('revoked_at', 'is', null).execute();
  await db.updateTable('advance_access').set({ revoked_at: now, updated_at: now }).where('release_id', '=', releaseId).where('revoked_at', 'is', null).execute();
}

/** Live advance access whose time has come, of releases still under embargo: their emails are due. */
export async function dueAdvanceReleases(db: Db, now: string): Promise<string[]> {
  const rows = await db
    .selectFrom('advance_access')
    .innerJoin('releases', 'releases.id', 'advance_access.release_id')
    .select('advance_access.release_id')
    .where('advance_access.revoked_at', 'is', null)
    .where('advance_access.opens_at', '<=', now)
    .where('releases.status', '=', 'scheduled')
    .where('releases.publish_at', '>', now)
    .where((eb) =>
      eb.or([
        eb('advance_access.audience', '=', 'all'),
        eb.exists(
          eb
            .selectFrom('advance_links')
            .select('advance_links.id')
            .whereRef('advance_links.release_id', '=', 'advance_access.release_id')
            .where('advance_links.sent_at', 'is', null)
            .where('advance_links.failed_at', 'is', null)
            .where('advance_links.revoked_at', 'is', null),
        ),
      ]),
    )
    .execute();
  return rows.map((r) => r.release_id);
}

/** Live advance access still to open: the delayed jobs Redis should hold. */
export async function upcomingAdvanceAccess(db: Db, now: string): Promise<{ releaseId: string; opensAt: string }[]> {
  const rows = await db
    .selectFrom('advance_access')
    .innerJoin('releases', 'releases.id', 'advance_access.release_id')
    .select(['advance_access.release_id', 'advance_access.opens_at'])
    .where('advance_access.revoked_at', 'is', null)
    .where('advance_access.opens_at', '>', now)
    .where('releases.status', '=', 'scheduled')
    .execute();
  return rows.map((r) => ({ releaseId: r.release_id, opensAt: r.opens_at }));
}

/** Links of the release still to send (not sent, not given up, not revoked). */
export async function unsentLinks(db: Db, releaseId: string): Promise<AdvanceLinkRow[]> {
  return db
    .selectFrom('advance_links')
    .selectAll()
    .where('release_id', '=', releaseId)
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
}

/**
 * Claims a link for sending, with the hash of the token its email will carry: only one
 * worker wins; a claim older than `staleBefore` belonged to a worker that died.
 */
export async function claimLink(db: Db, linkId: string, claim: { tokenHash: string; lang: string; now: string; staleBefore: string }): Promise<boolean> {
  const result = await db
    .updateTable('advance_links')
    .set({ token_hash: claim.tokenHash, lang: claim.lang, claimed_at: claim.now })
    .where('id', '=', linkId)
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('claimed_at', 'is', null), eb('claimed_at', '<', claim.staleBefore)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markLinkSent(db: Db, linkId: string, now: string): Promise<void> {
  await db.updateTable('advance_links').set({ sent_at: now }).where('id', '=', linkId).execute();
}

export async function markLinkFailed(db: Db, linkId: string, now: string, failure: string): Promise<void> {
  await db.updateTable('advance_links').set({ failed_at: now, failure, token_hash: null }).where('id', '=', linkId).execute();
}

/** Gives a claim back after a temporary failure: the next attempt makes a new token. */
export async function releaseLinkClaim(db: Db, linkId: string): Promise<void> {
  await db.updateTable('advance_links').set({ claimed_at: null, token_hash: null }).where('id', '=', linkId).execute();
}

/** The sent link with this token hash, with whether its journalist is still active and its access still live. */
export async function findLinkByTokenHash(
  db: Db,
  tokenHash: string,
): Promise<(AdvanceLinkRow & { journalist_status: string | null; access_revoked_at: string | null }) | undefined> {
  return db
    .selectFrom('advance_links')
    .leftJoin('journalists', 'journalists.id', 'advance_links.journalist_id')
    .leftJoin('advance_access', 'advance_access.release_id', 'advance_links.release_id')
    .selectAll('advance_links')
    .select(['journalists.status as journalist_status', 'advance_access.revoked_at as access_revoked_at'])
    .where('advance_links.token_hash', '=', tokenHash)
    .where('advance_links.sent_at', 'is not', null)
    .executeTakeFirst();
}

export interface Opening {
  id: string;
  linkId: string;
  releaseId: string;
  openedAt: string;
  lang: string;
  attachmentId: string | null;
  filename: string | null;
  ipHash: string;
  userAgent: string;
}

export async function insertOpening(db: Db, opening: Opening): Promise<void> {
  await db
    .insertInto('advance_openings')
    .values({
      id: opening.id,
      link_id: opening.linkId,
      release_id: opening.releaseId,
      opened_at: opening.openedAt,
      lang: opening.lang,
      attachment_id: opening.attachmentId,
      filename: opening.filename,
      ip_hash: opening.ipHash,
      user_agent: opening.userAgent,
    })
    .execute();
}

/** The access log of a release, newest first, with who held each link. */
export async function listOpenings(db: Db, releaseId: string, limit: number, offset: number) {
  return db
    .selectFrom('advance_openings')
    .innerJoin('advance_links', 'advance_links.id', 'advance_openings.link_id')
    .select([
      'advance_openings.id',
      'advance_openings.link_id',
      'advance_links.journalist_id',
      'advance_links.name',
      'advance_links.outlet',
      'advance_openings.opened_at',
      'advance_openings.lang',
      'advance_openings.attachment_id',
      'advance_openings.filename',
      'advance_openings.ip_hash',
      'advance_openings.user_agent',
    ])
    .where('advance_openings.release_id', '=', releaseId)
    .orderBy('advance_openings.opened_at', 'desc')
    .orderBy('advance_openings.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
}

/** The release's links that open it now: sent, not revoked nor failed, their journalist active, the access not taken back. */
export async function liveLinkIds(db: Db, releaseId: string): Promise<{ id: string }[]> {
  return db
    .selectFrom('advance_links')
    .innerJoin('journalists', 'journalists.id', 'advance_links.journalist_id')
    .innerJoin('advance_access', 'advance_access.release_id', 'advance_links.release_id')
    .select('advance_links.id')
    .where('advance_links.release_id', '=', releaseId)
    .where('advance_links.sent_at', 'is not', null)
    .where('advance_links.revoked_at', 'is', null)
    .where('advance_links.failed_at', 'is', null)
    .where('journalists.status', '=', 'active')
    .where('advance_access.revoked_at', 'is', null)
    .execute();
}

/**
 * Records an edit of a scheduled release to tell the journalists holding live links of,
 * one row each to send. Returns its id; undefined, and nothing written, when no
 * link is live. Called in the edit's transaction.
 */
export async function insertAdvanceUpdate(db: Db, update: { id: string; releaseId: string; fields: string[]; now: string }): Promise<string | undefined> {
  const live = await liveLinkIds(db, update.releaseId);
  if (!live.length) return undefined;
  await db.insertInto('advance_updates').values({ id: update.id, release_id: update.releaseId, fields: JSON.stringify(update.fields), created_at: update.now }).execute();
  await db
    .insertInto('advance_update_emails')
    .values(live.map((l) => ({ update_id: update.id, link_id: l.id, status: 'queued', claimed_at: null, sent_at: null, failure: null })))
    .execute();
  return update.id;
}

export async function findAdvanceUpdate(db: Db, id: string) {
  const row = await db.selectFrom('advance_updates').selectAll().where('id', '=', id).executeTakeFirst();
  return row && { id: row.id, releaseId: row.release_id, fields: JSON.parse(row.fields) as string[], createdAt: row.created_at };
}

/** Updates with emails still to send (queued, or claimed by a worker that died: before `staleBefore`). */
export async function dueAdvanceUpdates(db: Db, staleBefore: string): Promise<string[]> {
  const rows = await db
    .selectFrom('advance_update_emails')
    .select('update_id')
    .distinct()
    .where((eb) => eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'sending'), eb('claimed_at', '<', staleBefore)])]))
    .execute();
  return rows.map((r) => r.update_id);
}

/** Claims one update email (queued, or a stale claim): only one worker wins it. */
export async function claimUpdateEmail(db: Db, updateId: string, linkId: string, now: string, staleBefore: string): Promise<boolean> {
  const result = await db
    .updateTable('advance_update_emails')
    .set({ status: 'sending', claimed_at: now })
    .where('update_id', '=', updateId)
    .where('link_id', '=', linkId)
    .where((eb) => eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'sending'), eb('claimed_at', '<', staleBefore)])]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The update's emails still to send, with their link and whether it is live. */
export async function pendingUpdateEmails(db: Db, updateId: string, staleBefore: string) {
  return db
    .selectFrom('advance_update_emails')
    .innerJoin('advance_links', 'advance_links.id', 'advance_update_emails.link_id')
    .leftJoin('journalists', 'journalists.id', 'advance_links.journalist_id')
    .leftJoin('advance_access', 'advance_access.release_id', 'advance_links.release_id')
    .select([
      'advance_update_emails.link_id',
      'advance_links.lang',
      'advance_links.revoked_at',
      'advance_links.journalist_id',
      'journalists.email',
      'journalists.status as journalist_status',
      'advance_access.revoked_at as access_revoked_at',
    ])
    .where('advance_update_emails.update_id', '=', updateId)
    .where((eb) =>
      eb.or([
        eb('advance_update_emails.status', '=', 'queued'),
        eb.and([eb('advance_update_emails.status', '=', 'sending'), eb('advance_update_emails.claimed_at', '<', staleBefore)]),
      ]),
    )
    .execute();
}

export async function settleUpdateEmail(
  db: Db,
  updateId: string,
  linkId: string,
  outcome: { status: 'sent' | 'failed' | 'skipped' | 'queued'; at: string; failure?: string },
): Promise<void> {
  await db
    .updateTable('advance_update_emails')
    .set({
      status: outcome.status,
      claimed_at: null,
      ...(outcome.status === 'sent' ? { sent_at: outcome.at } : {}),
      failure: outcome.failure ?? null,
    })
    .where('update_id', '=', updateId)
    .where('link_id', '=', linkId)
    .execute();
}

/** The release's advance updates, newest first, with how many of their emails are in each state. */
export async function listAdvanceUpdates(db: Db, releaseId: string) {
  const [updates, counts] = await Promise.all([
    db.selectFrom('advance_updates').selectAll().where('release_id', '=', releaseId).orderBy('created_at', 'desc').orderBy('id').execute(),
    db
      .selectFrom('advance_update_emails')
      .innerJoin('advance_updates', 'advance_updates.id', 'advance_update_emails.update_id')
      .select((eb) => ['advance_update_emails.update_id', 'advance_update_emails.status', eb.fn.countAll<number>().as('count')])
      .where('advance_updates.release_id', '=', releaseId)
      .groupBy(['advance_update_emails.update_id', 'advance_update_emails.status'])
      .execute(),
  ]);
  return updates.map((u) => {
    const of = (status: string) => Number(counts.find((c) => c.update_id === u.id && c.status === status)?.count ?? 0);
    return {
      id: u.id,
      at: u.created_at,
      fields: JSON.parse(u.fields) as string[],
      queued: of('queued') + of('sending'),
      sent: of('sent'),
      failed: of('failed'),
      skipped: of('skipped'),
    };
  });
}

/** A journalist's personal links and every opening of them (a data subject's access request). */
export async function linksAndOpeningsOf(db: Db, journalistId: string) {
  const links = await db
    .selectFrom('advance_links')
    .select(['id', 'release_id', 'lang', 'created_at', 'sent_at', 'revoked_at'])
    .where('journalist_id', '=', journalistId)
    .orderBy('created_at')
    .execute();
  const openings = links.length
    ? await db
        .selectFrom('advance_openings')
        .select(['link_id', 'opened_at', 'lang', 'filename', 'user_agent'])
        .where('link_id', 'in', links.map((l) => l.id))
        .orderBy('opened_at')
        .execute()
    : [];
  return links.map((link) => ({ link, openings: openings.filter((o) => o.link_id === link.id) }));
}
