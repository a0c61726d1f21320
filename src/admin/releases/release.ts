import type { Response } from 'express';
import type { AppContext } from '../../context.js';
import { notFound } from '../../lib/errors.js';
import { findNewsroomById, type Newsroom } from '../../newsrooms/repository.js';
import { getReleaseForStaff } from '../../releases/operations.js';
import type { Release } from '../../releases/repository.js';
import type { Session } from '../session.js';

/** The release the session may see, with its newsroom. */
export async function loadRelease(ctx: AppContext, session: Session, id: string): Promise<{ release: Release; newsroom: Newsroom }> {
  const release = await getReleaseForStaff(ctx, id, session.principal);
  const newsroom = await findNewsroomById(ctx.db, release.newsroomId);
  if (!newsroom) throw notFound('Newsroom');
  return { release, newsroom };
}

/** Back to the release's page (at `anchor`) after an action. */
export const backToRelease = (res: Response, release: Release, anchor = '') =>
  res.redirect(303, `/admin/releases/${encodeURIComponent(release.id)}${anchor}`);
