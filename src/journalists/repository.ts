import type { Db } from '../lib/db/database.js';
import type { JournalistRow } from '../lib/db/schema.js';
import type { JournalistStatus } from './schemas.js';

export interface Journalist {
  id: string;
  newsroomId: string;
  name: string;
  outlet: string;
  email: string;
  languages: string[];
  note: string;
  status: JournalistStatus;
  createdAt: string;
  updatedAt: string;
  /** When they stopped the release emails by the link in one; they stay accredited. */
  unsubscribedAt: string | null;
}

export const toJournalist = (row: JournalistRow): Journalist => ({
  id: row.id,
  newsroomId: row.newsroom_id,
  name: row.name,
  outlet: row.outlet,
  email: row.email,
  languages: JSON.parse(row.languages),
  note: row.note,
  status: row.status as JournalistStatus,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  unsubscribedAt: row.unsubscribed_at,
});

const toRow = (j: Journalist): JournalistRow => ({
  id: j.id,
  newsroom_id: j.newsroomId,
  name: j.name,
  outlet: j.outlet,
  email: j.email,
  email_key: j.email.toLowerCase(),
  languages: JSON.stringify(j.languages),
  note: j.note,
  status: j.status,
  created_at: j.createdAt,
  updated_at: j.updatedAt,
  unsubscribed_at: j.unsubscribedAt,
});

export async function insertJournalist(db: Db, journalist: Journalist): Promise<void> {
  await db.insertInto('journalists').values(toRow(journalist)).execute();
}

export async function updateJournalistRow(db: Db, journalist: Journalist): Promise<void> {
  // The unsubscription is the journalist's own, written only by markJournalistUnsubscribed.
  const { id, newsroom_id: _n, created_at: _c, unsubscribed_at: _u, ...changes } = toRow(journalist);
  await db.updateTable('journalists').set(changes).where('id', '=', id).execute();
}

/** From the link in a release email: no more release emails (the accreditation stays). */
export async function markJournalistUnsubscribed(db: Db, id: string, now: string): Promise<void> {
  await db.updateTable('journalists').set({ unsubscribed_at: now }).where('id', '=', id).where('unsubscribed_at', 'is', null).execute();
}

export async function deleteJournalistRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('journalists').where('id', '=', id).execute();
}

export async function findJournalist(db: Db, id: string): Promise<Journalist | undefined> {
  const row = await db.selectFrom('journalists').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toJournalist(row);
}

/** Another journalist of the newsroom with this address (any case), if any. */
export async function findJournalistByEmail(db: Db, newsroomId: string, email: string): Promise<Journalist | undefined> {
  const row = await db
    .selectFrom('journalists')
    .selectAll()
    .where('newsroom_id', '=', newsroomId)
    .where('email_key', '=', email.toLowerCase())
    .executeTakeFirst();
  return row && toJournalist(row);
}

/** Every newsroom's journalist with this address (any case): a data subject's request. */
export async function findJournalistsByEmail(db: Db, email: string): Promise<Journalist[]> {
  const rows = await db.selectFrom('journalists').selectAll().where('email_key', '=', email.toLowerCase()).orderBy('created_at').execute();
  return rows.map(toJournalist);
}

export async function listJournalists(db: Db, newsroomId: string, status?: JournalistStatus): Promise<Journalist[]> {
  let query = db.selectFrom('journalists').selectAll().where('newsroom_id', '=', newsroomId);
  if (status) query = query.where('status', '=', status);
  const rows = await query.orderBy('name').orderBy('id').execute();
  return rows.map(toJournalist);
}
