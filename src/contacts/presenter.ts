import type { Contact } from './repository.js';

export function presentContact(contact: Contact, newsroomSlug: string) {
  return {
    id: contact.id,
    newsroom: newsroomSlug,
    name: contact.name,
    title: contact.title,
    phone: contact.phone,
    email: contact.email,
    createdAt: contact.createdAt,
    updatedAt: contact.updatedAt,
  };
}
