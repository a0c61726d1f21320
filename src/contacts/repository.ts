import type { Db } from '../lib/db/database.js';
import type { ContactRow } from '../lib/db/schema.js';

export interface Contact {
  id: string;
  newsroomId: string;
  name: string;
  title: Record<string, string>;
  phone: string | null;
  email: string | null;
  createdAt: string;
  updatedAt: string;
}

export const toContact = (row: ContactRow): Contact => ({
  id: row.id,
  newsroomId: row.newsroom_id,
  name: row.name,
  title: JSON.parse(row.title),
  phone: row.phone,
  email: row.email,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toRow = (c: Contact): ContactRow => ({
  id: c.id,
  newsroom_id: c.newsroomId,
  name: c.name,
  title: JSON.stringify(c.title),
  phone: c.phone,
  email: c.email,
  created_at: c.createdAt,
  updated_at: c.updatedAt,
});

export async function insertContact(db: Db, contact: Contact): Promise<void> {
  await db.insertInto('contacts').values(toRow(contact)).execute();
}

export async function updateContactRow(db: Db, contact: Contact): Promise<void> {
  const { id, newsroom_id: _n, created_at: _c, ...changes } = toRow(contact);
  await db.updateTable('contacts').set(changes).where('id', '=', id).execute();
}

export async function deleteContactRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('contacts').where('id', '=', id).execute();
}

export async function findContact(db: Db, id: string): Promise<Contact | undefined> {
  const row = await db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toContact(row);
}

export async function listContacts(db: Db, newsroomId: string): Promise<Contact[]> {
  const rows = await db.selectFrom('contacts').selectAll().where('newsroom_id', '=', newsroomId).orderBy('name').execute();
  return rows.map(toContact);
}

/** Of the given ids, those that are contacts of the newsroom. */
export async function contactIdsIn(db: Db, newsroomId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('contacts')
    .select('id')
    .where('newsroom_id', '=', newsroomId)
    .where('id', 'in', [...ids])
    .execute();
  return new Set(rows.map((r) => r.id));
}
