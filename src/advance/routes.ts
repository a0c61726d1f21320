import { z } from 'zod';
import type { AppContext } from '../context.js';
import { defineRoute } from '../lib/routes.js';
import { getReleaseForStaff } from '../releases/operations.js';
import { getAdvanceAccess, giveAdvanceAccess, revokeAdvanceAccess, revokeAdvanceLink } from './operations.js';
import { presentAdvanceAccess, presentOpening } from './presenter.js';
import { listAdvanceUpdates, listLinks, listOpenings } from './repository.js';
import { advanceAccessResponse, giveAdvanceAccessBody, linkParams, logQuery, openingResponse, releaseParams } from './schemas.js';

/** Advance access of a release and its access log: staff of its newsroom only. */
export function advanceRoutes(ctx: AppContext) {
  const path = '/api/releases/:id/advance-access';
  const base = ctx.config.publicUrl;
  const loadRelease = ({ params, principal }: { params: { id: string }; principal: Parameters<typeof getReleaseForStaff>[2] }) =>
    getReleaseForStaff(ctx, params.id, principal);
  const present = async (access: Awaited<ReturnType<typeof getAdvanceAccess>>) =>
    presentAdvanceAccess(base, access, await listLinks(ctx.db, access.releaseId), await listAdvanceUpdates(ctx.db, access.releaseId));

  return [
    defineRoute({
      method: 'put',
      path,
      tag: 'Advance access',
      summary: 'Give accredited journalists advance access to a scheduled release: each gets a personal link by email at opensAt',
      access: 'token',
      params: releaseParams,
      body: giveAdvanceAccessBody,
      errors: [409],
      responses: { 200: { description: 'The advance access and its links', schema: advanceAccessResponse } },
      load: loadRelease,
      async handle({ body, loaded: release }) {
        return { status: 200, body: await present(await giveAdvanceAccess(ctx, release, body)) };
      },
    }),
    defineRoute({
      method: 'get',
      path,
      tag: 'Advance access',
      summary: "A release's advance access and its personal links",
      access: 'token',
      params: releaseParams,
      responses: { 200: { description: 'The advance access and its links', schema: advanceAccessResponse } },
      load: loadRelease,
      async handle({ loaded: release }) {
        return { status: 200, body: await present(await getAdvanceAccess(ctx, release)) };
      },
    }),
    defineRoute({
      method: 'delete',
      path,
      tag: 'Advance access',
      summary: 'Revoke all advance access to a release at once: every personal link dies, none more is sent',
      access: 'token',
      params: releaseParams,
      responses: { 200: { description: 'The advance access, revoked', schema: advanceAccessResponse } },
      load: loadRelease,
      async handle({ loaded: release }) {
        return { status: 200, body: await present(await revokeAdvanceAccess(ctx, release)) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: `${path}/links/:linkId`,
      tag: 'Advance access',
      summary: "Revoke one journalist's personal link",
      access: 'token',
      params: linkParams,
      responses: { 204: { description: 'Revoked' } },
      load: loadRelease,
      async handle({ params, loaded: release }) {
        await revokeAdvanceLink(ctx, release, params.linkId);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${path}/log`,
      tag: 'Advance access',
      summary: 'The access log: every opening of a personal link or one of its files, newest first',
      access: 'token',
      params: releaseParams,
      query: logQuery,
      responses: { 200: { description: 'The openings', schema: z.array(openingResponse) } },
      load: loadRelease,
      async handle({ query, loaded: release }) {
        const rows = await listOpenings(ctx.db, release.id, query.limit, query.offset);
        return { status: 200, body: rows.map(presentOpening) };
      },
    }),
  ];
}
