import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import { conflict, type FieldError, notFound, unprocessable } from '../lib/errors.js';
import { isoTime } from '../lib/time.js';
import { listJournalists } from '../journalists/repository.js';
import { findRelease, type Release } from '../releases/repository.js';
import { advanceLinkView, effectiveStatus } from '../releases/visibility.js';
import { addressHash, LINK_TOKEN, sha256Hex } from './links.js';
import {
  addLinks,
  type AdvanceAccess,
  dropUnsentLinksExcept,
  findAdvanceAccess,
  findLinkByTokenHash,
  insertOpening,
  revokeAllLinks,
  revokeLink,
  saveAdvanceAccess,
} from './repository.js';
import type { GiveAdvanceAccessInput } from './schemas.js';
import type { AdvanceLinkRow } from '../lib/db/schema.js';

/**
 * Gives (or changes) advance access to a scheduled release: from `opensAt` (now when not
 * given, or when past), for all of the newsroom's active journalists or those chosen. A
 * link once sent stays until revoked; choosing again forgets only links not sent yet.
 */
export async function giveAdvanceAccess(ctx: AppContext, release: Release, input: GiveAdvanceAccessInput): Promise<AdvanceAccess> {
  const now = ctx.clock.now();
  if (effectiveStatus(release, now) !== 'scheduled') {
    throw conflict('Advance access is given to a scheduled release, before its publication time.');
  }
  const opensAt = input.opensAt && input.opensAt > now ? input.opensAt : now;
  if (opensAt.getTime() >= Date.parse(release.publishAt!)) {
    throw unprocessable('Advance access must open before the publication time.', [
      { path: 'opensAt', message: 'must be before the publication time', code: 'before_publication' },
    ]);
  }
  const active = await listJournalists(ctx.db, release.newsroomId, 'active');
  let chosen = active;
  if (input.journalists !== 'all') {
    const byId = new Map(active.map((j) => [j.id, j]));
    const errors: FieldError[] = input.journalists.flatMap((id, index) =>
      byId.has(id) ? [] : [{ path: `journalists.${index}`, message: 'is not an active accredited journalist of this newsroom', code: 'unknown_journalist' as const }],
    );
    if (errors.length) throw unprocessable('Advance access is given to active accredited journalists of the newsroom only.', errors);
    chosen = [...new Set(input.journalists)].map((id) => byId.get(id)!);
  }
  const at = isoTime(now);
  const opens = isoTime(opensAt);
  await ctx.db.transaction().execute(async (trx) => {
    await saveAdvanceAccess(trx, { releaseId: release.id, opensAt: opens, audience: input.journalists === 'all' ? 'all' : 'chosen', now: at });
    if (input.journalists !== 'all') await dropUnsentLinksExcept(trx, release.id, chosen.map((j) => j.id));
    await addLinks(trx, release.id, chosen, randomUUID, at);
  });
  await ctx.advance.schedule(release.id, opens);
  return (await findAdvanceAccess(ctx.db, release.id))!;
}

export async function getAdvanceAccess(ctx: AppContext, release: Release): Promise<AdvanceAccess> {
  const access = await findAdvanceAccess(ctx.db, release.id);
  if (!access) throw notFound('Advance access');
  return access;
}

export async function revokeAdvanceLink(ctx: AppContext, release: Release, linkId: string): Promise<void> {
  if (!(await revokeLink(ctx.db, release.id, linkId, isoTime(ctx.clock.now())))) throw notFound('Advance link');
}

/** Takes every link of the release back at once; none is sent any more until access is given again. */
export async function revokeAdvanceAccess(ctx: AppContext, release: Release): Promise<AdvanceAccess> {
  const access = await getAdvanceAccess(ctx, release);
  await revokeAllLinks(ctx.db, release.id, isoTime(ctx.clock.now()));
  return { ...access, revokedAt: (await findAdvanceAccess(ctx.db, release.id))!.revokedAt };
}

/** What an advance link's token leads to (see visibility.ts advanceLinkView). */
export type OpenedLink =
  | { view: 'missing' }
  | { view: 'closed'; release: Release }
  | { view: 'public'; release: Release; lang: string }
  | { view: 'embargoed'; release: Release; link: AdvanceLinkRow; lang: string };

export async function openAdvanceLink(ctx: AppContext, token: string): Promise<OpenedLink> {
  if (!LINK_TOKEN.test(token)) return { view: 'missing' };
  const link = await findLinkByTokenHash(ctx.db, sha256Hex(token));
  const release = link && (await findRelease(ctx.db, link.release_id));
  if (!link || !release) return { view: 'missing' };
  const lang = link.lang && release.translations.some((t) => t.lang === link.lang) ? link.lang : release.translations[0]!.lang;
  const view = advanceLinkView(
    release,
    { revokedAt: link.revoked_at, accessRevokedAt: link.access_revoked_at, journalistActive: link.journalist_status === 'active' },
    ctx.clock.now(),
  );
  if (view === 'embargoed') return { view, release, link, lang };
  if (view === 'public') return { view, release, lang };
  return { view, release };
}

/** One line of the access log: who opened the link (or one of its files), when, in which language, from where. */
export async function recordOpening(
  ctx: AppContext,
  opened: { link: AdvanceLinkRow; lang: string },
  client: { ip: string | undefined; userAgent: string | undefined },
  file?: { attachmentId: string; filename: string },
): Promise<void> {
  await insertOpening(ctx.db, {
    id: randomUUID(),
    linkId: opened.link.id,
    releaseId: opened.link.release_id,
    openedAt: isoTime(ctx.clock.now()),
    lang: opened.lang,
    attachmentId: file?.attachmentId ?? null,
    filename: file?.filename ?? null,
    ipHash: addressHash(ctx.config.signingSecret, client.ip ?? ''),
    userAgent: (client.userAgent ?? '').slice(0, 500),
  });
}
