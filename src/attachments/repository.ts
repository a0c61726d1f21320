import type { ExpressionBuilder } from 'kysely';
import { databaseTime, type Db, type Dialect } from '../lib/db/database.js';
import type { AttachmentRow, Database } from '../lib/db/schema.js';
import { revisionAfterEdit } from '../releases/repository.js';

/** What deciding who may read an attachment's file needs of its release. */
export interface AttachmentRelease {
  newsroomId: string;
  status: string;
  publishAt: string | null;
  publishedAt: string | null;
}

/**
 * Marks a release as edited now (a published release then shows as updated, with a new
 * revision), and bumps its version so that an edit that read it before fails instead of
 * overwriting.
 * False when the release is gone or, with `unlessWithdrawn`, withdrawn.
 */
async function touchRelease(db: Db, releaseId: string, now: string, unlessWithdrawn: boolean): Promise<boolean> {
  let query = db
    .updateTable('releases')
    .set((eb) => ({ updated_at: now, version: eb('version', '+', 1), revision: revisionAfterEdit(now)(eb) }))
    .where('id', '=', releaseId);
  if (unlessWithdrawn) query = query.where('status', '<>', 'withdrawn');
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Adds an attachment after the release's others. Run it in a transaction: touching the
 * release first locks its row, so concurrent uploads do not take the same position.
 * Undefined when the release is gone or withdrawn.
 */
export async function insertAttachment(
  db: Db,
  attachment: Omit<AttachmentRow, 'position'>,
): Promise<AttachmentRow | undefined> {
  if (!(await touchRelease(db, attachment.release_id, attachment.created_at, true))) return undefined;
  const { last } = await db
    .selectFrom('attachments')
    .select((eb) => eb.fn.max('position').as('last'))
    .where('release_id', '=', attachment.release_id)
    .executeTakeFirstOrThrow();
  const row = { ...attachment, position: last === null ? 0 : Number(last) + 1 };
  await db.insertInto('attachments').values(row).execute();
  return row;
}

export async function findAttachment(db: Db, releaseId: string, attachmentId: string): Promise<AttachmentRow | undefined> {
  return db
    .selectFrom('attachments')
    .selectAll()
    .where('id', '=', attachmentId)
    .where('release_id', '=', releaseId)
    .executeTakeFirst();
}

export async function findAttachmentWithRelease(
  db: Db,
  attachmentId: string,
): Promise<{ attachment: AttachmentRow; release: AttachmentRelease } | undefined> {
  const row = await db
    .selectFrom('attachments')
    .innerJoin('releases', 'releases.id', 'attachments.release_id')
    .selectAll('attachments')
    .select([
      'releases.newsroom_id',
      'releases.status as release_status',
      'releases.publish_at as release_publish_at',
      'releases.published_at as release_published_at',
    ])
    .where('attachments.id', '=', attachmentId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { newsroom_id, release_status, release_publish_at, release_published_at, ...attachment } = row;
  return {
    attachment,
    release: {
      newsroomId: newsroom_id,
      status: release_status,
      publishAt: release_publish_at,
      publishedAt: release_published_at,
    },
  };
}

/** Saves caption and credit; false when the attachment, or its release, is gone or withdrawn meanwhile. */
export async function updateAttachmentRow(db: Db, attachment: AttachmentRow, now: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (!(await touchRelease(trx, attachment.release_id, now, true))) return false;
    const result = await trx
      .updateTable('attachments')
      .set({ caption: attachment.caption, credit: attachment.credit })
      .where('id', '=', attachment.id)
      .where('release_id', '=', attachment.release_id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  });
}

/** Removes the attachment from its release, giving its blob's hash; undefined when it is not there. */
export async function deleteAttachmentRow(
  db: Db,
  releaseId: string,
  attachmentId: string,
  now: string,
): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const deleted = await trx
      .deleteFrom('attachments')
      .where('id', '=', attachmentId)
      .where('release_id', '=', releaseId)
      .returning('sha256')
      .executeTakeFirst();
    if (deleted) await touchRelease(trx, releaseId, now, false);
    return deleted?.sha256;
  });
}

/**
 * Records that an upload uses the blob `sha256` now, in the database's clock: the
 * clean-up then leaves it alone for its grace period. In a transaction, the row lock it
 * takes orders the upload against the clean-up (see blobs.ts).
 */
export async function useBlob(db: Db, dialect: Dialect, sha256: string): Promise<void> {
  const now = databaseTime(dialect);
  await db
    .insertInto('blobs')
    .values({ sha256, created_at: now, used_at: now })
    .onConflict((oc) => oc.column('sha256').doUpdateSet({ used_at: now }))
    .execute();
}

/** A blob that neither an attachment nor a newsroom's logo, current or earlier, names. */
const isUnnamed = ({ not, exists, selectFrom, and }: ExpressionBuilder<Database, 'blobs'>) =>
  and([
    not(exists(selectFrom('attachments').select('attachments.id').whereRef('attachments.sha256', '=', 'blobs.sha256'))),
    not(exists(selectFrom('newsroom_logos').select('newsroom_logos.sha256').whereRef('newsroom_logos.sha256', '=', 'blobs.sha256'))),
  ]);

/** Every blob the database records, and whether an attachment or a logo names it. */
export async function recordedBlobs(db: Db): Promise<{ sha256: string; named: boolean }[]> {
  const rows = await db
    .selectFrom('blobs')
    .select((eb) => ['sha256', eb.case().when(isUnnamed(eb)).then(0).else(1).end().as('named')])
    .orderBy('sha256')
    .execute();
  return rows.map((r) => ({ sha256: r.sha256, named: Number(r.named) === 1 }));
}

/** Blobs nothing names that no upload has used for `graceMs`: candidates for the clean-up. */
export async function unusedBlobs(db: Db, dialect: Dialect, graceMs: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('blobs')
    .select('sha256')
    .where('used_at', '<', databaseTime(dialect, graceMs))
    .where(isUnnamed)
    .limit(limit)
    .execute();
  return rows.map((r) => r.sha256);
}

/**
 * Forgets the blob if it is still unused, checking again in the same statement; true
 * when it did. Run it in the transaction that then deletes the objects. On PostgreSQL,
 * a DELETE that waited for an upload's lock on the row re-reads that row (its fresh
 * `used_at`) but not the attachments, whose check still sees the statement's snapshot:
 * `used_at`, in the database's clock, is what keeps a just-used blob.
 */
export async function forgetBlobIfUnused(db: Db, dialect: Dialect, sha256: string, graceMs: number): Promise<boolean> {
  const result = await db
    .deleteFrom('blobs')
    .where('sha256', '=', sha256)
    .where('used_at', '<', databaseTime(dialect, graceMs))
    .where(isUnnamed)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
