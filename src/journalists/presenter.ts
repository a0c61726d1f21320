import type { Journalist } from './repository.js';

export function presentJournalist(journalist: Journalist, newsroomSlug: string) {
  return {
    id: journalist.id,
    newsroom: newsroomSlug,
    name: journalist.name,
    outlet: journalist.outlet,
    email: journalist.email,
    languages: journalist.languages,
    note: journalist.note,
    status: journalist.status,
    releaseEmails: journalist.unsubscribedAt === null,
    unsubscribedAt: journalist.unsubscribedAt,
    createdAt: journalist.createdAt,
    updatedAt: journalist.updatedAt,
  };
}
