import { randomUUID } from 'node:crypto';
import { authorizeNewsroom } from '../auth/authorize.js';
import type { AppContext } from '../context.js';
import type { Db } from '../lib/db/database.js';
import { notFound, unprocessable } from '../lib/errors.js';
import type { Principal } from '../lib/routes.js';
import { foreignLanguages } from '../lib/schemas.js';
import { isoTime } from '../lib/time.js';
import type { Newsroom } from '../newsrooms/repository.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import { type Contact, deleteContactRow, findContact, insertContact, updateContactRow } from './repository.js';
import type { CreateContactInput, UpdateContactInput } from './schemas.js';

function checkTitleLanguages(newsroom: Newsroom, title: Record<string, string>) {
  const errors = foreignLanguages('title', title, newsroom.languages);
  if (errors.length) throw unprocessable('The title is in a language the newsroom does not have.', errors);
}

const nonEmpty = (texts: Record<string, string>) =>
  Object.fromEntries(Object.entries(texts).filter(([, text]) => text !== ''));

/** `db`: the caller's transaction, when the contact is one of several writes. */
export async function createContact(ctx: AppContext, newsroom: Newsroom, input: CreateContactInput, db: Db = ctx.db): Promise<Contact> {
  checkTitleLanguages(newsroom, input.title);
  const now = isoTime(ctx.clock.now());
  const contact: Contact = {
    id: randomUUID(),
    newsroomId: newsroom.id,
    name: input.name,
    title: nonEmpty(input.title),
    phone: input.phone,
    email: input.email,
    createdAt: now,
    updatedAt: now,
  };
  await insertContact(db, contact);
  return contact;
}

/** Loads a contact and its newsroom, checking that the principal may act on them. */
export async function getContactForStaff(
  ctx: AppContext,
  id: string,
  principal: Principal,
  newsroomSlug?: string,
): Promise<{ contact: Contact; newsroom: Newsroom }> {
  const contact = await findContact(ctx.db, id);
  const newsroom = contact && (await findNewsroomById(ctx.db, contact.newsroomId));
  if (!contact || !newsroom || (newsroomSlug !== undefined && newsroom.slug !== newsroomSlug)) {
    throw notFound('Contact');
  }
  authorizeNewsroom(principal, newsroom.id);
  return { contact, newsroom };
}

export async function updateContact(
  ctx: AppContext,
  newsroom: Newsroom,
  contact: Contact,
  input: UpdateContactInput,
): Promise<Contact> {
  if (input.title) checkTitleLanguages(newsroom, input.title);
  const updated: Contact = {
    ...contact,
    name: input.name ?? contact.name,
    title: input.title ? nonEmpty({ ...contact.title, ...input.title }) : contact.title,
    phone: input.phone === undefined ? contact.phone : input.phone,
    email: input.email === undefined ? contact.email : input.email,
    updatedAt: isoTime(ctx.clock.now()),
  };
  await updateContactRow(ctx.db, updated);
  return updated;
}

/** Removes the contact, and with it its place on every release that named it. */
export async function deleteContact(ctx: AppContext, contact: Contact): Promise<void> {
  await deleteContactRow(ctx.db, contact.id);
}
