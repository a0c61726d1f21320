import { z } from 'zod';
import type { AppContext } from '../context.js';
import { defineRoute } from '../lib/routes.js';
import { getNewsroomForStaff } from '../newsrooms/operations.js';
import { slugParams } from '../newsrooms/schemas.js';
import { createJournalist, getJournalistForStaff, removeJournalist, setJournalistStatus, updateJournalist } from './operations.js';
import { presentJournalist } from './presenter.js';
import { listJournalists } from './repository.js';
import { createJournalistBody, journalistParams, journalistResponse, journalistStatuses, updateJournalistBody } from './schemas.js';

/** A newsroom's accredited journalists: only its own tokens (and the admin) see or change them. */
export function journalistRoutes(ctx: AppContext) {
  const base = '/api/newsrooms/:slug/journalists';
  const item = `${base}/:id`;
  const loadOne = ({ params, principal }: { params: { slug: string; id: string }; principal: Parameters<typeof getJournalistForStaff>[3] }) =>
    getJournalistForStaff(ctx, params.slug, params.id, principal);

  const statusRoute = (action: 'suspend' | 'reactivate', status: (typeof journalistStatuses)[number], summary: string) =>
    defineRoute({
      method: 'post',
      path: `${item}/${action}`,
      tag: 'Journalists',
      summary,
      access: 'token',
      params: journalistParams,
      responses: { 200: { description: 'The journalist', schema: journalistResponse } },
      load: loadOne,
      async handle({ loaded: { journalist, newsroom } }) {
        return { status: 200, body: presentJournalist(await setJournalistStatus(ctx, journalist, status), newsroom.slug) };
      },
    });

  return [
    defineRoute({
      method: 'post',
      path: base,
      tag: 'Journalists',
      summary: 'Accredit a journalist (advance access to embargoed releases; nothing is sent to them now)',
      access: 'token',
      params: slugParams,
      body: createJournalistBody,
      errors: [409],
      responses: { 201: { description: 'Created', schema: journalistResponse } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ body, loaded: newsroom }) {
        return { status: 201, body: presentJournalist(await createJournalist(ctx, newsroom, body), newsroom.slug) };
      },
    }),
    defineRoute({
      method: 'get',
      path: base,
      tag: 'Journalists',
      summary: "List a newsroom's accredited journalists",
      access: 'token',
      params: slugParams,
      query: z.object({ status: z.enum(journalistStatuses).optional() }),
      responses: { 200: { description: 'The journalists, by name', schema: z.array(journalistResponse) } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ query, loaded: newsroom }) {
        const journalists = await listJournalists(ctx.db, newsroom.id, query.status);
        return { status: 200, body: journalists.map((j) => presentJournalist(j, newsroom.slug)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: item,
      tag: 'Journalists',
      summary: 'Get an accredited journalist',
      access: 'token',
      params: journalistParams,
      responses: { 200: { description: 'The journalist', schema: journalistResponse } },
      load: loadOne,
      handle: ({ loaded: { journalist, newsroom } }) => ({ status: 200, body: presentJournalist(journalist, newsroom.slug) }),
    }),
    defineRoute({
      method: 'patch',
      path: item,
      tag: 'Journalists',
      summary: 'Change an accredited journalist',
      access: 'token',
      params: journalistParams,
      body: updateJournalistBody,
      errors: [409],
      responses: { 200: { description: 'Updated', schema: journalistResponse } },
      load: loadOne,
      async handle({ body, loaded: { journalist, newsroom } }) {
        return { status: 200, body: presentJournalist(await updateJournalist(ctx, journalist, body), newsroom.slug) };
      },
    }),
    statusRoute('suspend', 'suspended', 'Suspend a journalist: their personal links die, and they get no new ones'),
    statusRoute('reactivate', 'active', 'Reactivate a suspended journalist (for advance access given from now on)'),
    defineRoute({
      method: 'delete',
      path: item,
      tag: 'Journalists',
      summary: 'Remove a journalist: their personal links die; the access log keeps their name',
      access: 'token',
      params: journalistParams,
      responses: { 204: { description: 'Removed' } },
      load: loadOne,
      async handle({ loaded: { journalist } }) {
        await removeJournalist(ctx, journalist);
        return { status: 204 };
      },
    }),
  ];
}
