import { randomUUID } from 'node:crypto';
import { authorizeNewsroom } from '../auth/authorize.js';
import { linksAndOpeningsOf, revokeLinksOfJournalist } from '../advance/repository.js';
import type { AppContext } from '../context.js';
import { conflict, notFound } from '../lib/errors.js';
import type { Principal } from '../lib/routes.js';
import { isoTime } from '../lib/time.js';
import type { Newsroom } from '../newsrooms/repository.js';
import { getNewsroomForStaff } from '../newsrooms/operations.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import {
  deleteJournalistRow,
  findJournalist,
  findJournalistByEmail,
  findJournalistsByEmail,
  insertJournalist,
  type Journalist,
  updateJournalistRow,
} from './repository.js';
import type { CreateJournalistInput, JournalistStatus, UpdateJournalistInput } from './schemas.js';

const emailTaken = () => conflict('The newsroom already has a journalist with this email address.');

export async function createJournalist(ctx: AppContext, newsroom: Newsroom, input: CreateJournalistInput): Promise<Journalist> {
  if (await findJournalistByEmail(ctx.db, newsroom.id, input.email)) throw emailTaken();
  const now = isoTime(ctx.clock.now());
  const journalist: Journalist = {
    id: randomUUID(),
    newsroomId: newsroom.id,
    name: input.name,
    outlet: input.outlet,
    email: input.email,
    languages: [...new Set(input.languages ?? [newsroom.languages[0]!])],
    note: input.note,
    status: 'active',
    createdAt: now,
    updatedAt: now,
    unsubscribedAt: null,
  };
  await insertJournalist(ctx.db, journalist);
  return journalist;
}

/** A journalist of the newsroom `slug`, which the principal may act in; another newsroom's is a 404 here. */
export async function getJournalistForStaff(
  ctx: AppContext,
  slug: string,
  id: string,
  principal: Principal | undefined,
): Promise<{ journalist: Journalist; newsroom: Newsroom }> {
  const newsroom = await getNewsroomForStaff(ctx, slug, principal);
  const journalist = await findJournalist(ctx.db, id);
  if (!journalist || journalist.newsroomId !== newsroom.id) throw notFound('Journalist');
  authorizeNewsroom(principal, journalist.newsroomId);
  return { journalist, newsroom };
}

export async function updateJournalist(ctx: AppContext, journalist: Journalist, input: UpdateJournalistInput): Promise<Journalist> {
  if (input.email && input.email.toLowerCase() !== journalist.email.toLowerCase()) {
    if (await findJournalistByEmail(ctx.db, journalist.newsroomId, input.email)) throw emailTaken();
  }
  const updated: Journalist = {
    ...journalist,
    name: input.name ?? journalist.name,
    outlet: input.outlet ?? journalist.outlet,
    email: input.email ?? journalist.email,
    languages: input.languages ? [...new Set(input.languages)] : journalist.languages,
    note: input.note ?? journalist.note,
    updatedAt: isoTime(ctx.clock.now()),
  };
  await updateJournalistRow(ctx.db, updated);
  return updated;
}

/**
 * Suspends or reactivates. Suspending kills every personal link the journalist holds, for
 * good: reactivated, they get links only from advance access given later.
 */
export async function setJournalistStatus(ctx: AppContext, journalist: Journalist, status: JournalistStatus): Promise<Journalist> {
  const now = isoTime(ctx.clock.now());
  const updated: Journalist = { ...journalist, status, updatedAt: now };
  await ctx.db.transaction().execute(async (trx) => {
    await updateJournalistRow(trx, updated);
    if (status === 'suspended') await revokeLinksOfJournalist(trx, journalist.id, now);
  });
  return updated;
}

/** Removes the journalist; their links die, and the access log keeps their name and outlet. */
export async function removeJournalist(ctx: AppContext, journalist: Journalist): Promise<void> {
  await removeJournalists(ctx, [journalist]);
}

async function removeJournalists(ctx: AppContext, journalists: readonly Journalist[]): Promise<void> {
  const now = isoTime(ctx.clock.now());
  await ctx.db.transaction().execute(async (trx) => {
    for (const journalist of journalists) {
      await revokeLinksOfJournalist(trx, journalist.id, now);
      await deleteJournalistRow(trx, journalist.id);
    }
  });
}

/** What every newsroom holds about an address as an accredited journalist: the entry, its links and their openings. */
export async function journalistDataHeldAbout(ctx: AppContext, email: string) {
  const journalists = await findJournalistsByEmail(ctx.db, email);
  return Promise.all(
    journalists.map(async (journalist) => ({
      journalist,
      newsroomSlug: (await findNewsroomById(ctx.db, journalist.newsroomId))?.slug ?? '',
      links: await linksAndOpeningsOf(ctx.db, journalist.id),
    })),
  );
}

/**
 * Removes an address from every newsroom's journalists (a data subject's erasure
 * request). As when staff remove one, the access log keeps the name and outlet a link
 * was given under: it is the record of who had an embargoed release.
 */
export async function eraseJournalistAddress(ctx: AppContext, email: string): Promise<number> {
  const journalists = await findJournalistsByEmail(ctx.db, email);
  await removeJournalists(ctx, journalists);
  return journalists.length;
}
