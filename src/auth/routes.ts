import { z } from 'zod';
import type { AppContext } from '../context.js';
import { notFound } from '../lib/errors.js';
import { defineRoute } from '../lib/routes.js';
import { pathKey } from '../lib/schemas.js';
import { isoTime } from '../lib/time.js';
import { getNewsroom } from '../newsrooms/operations.js';
import { slugParams } from '../newsrooms/schemas.js';
import { createToken } from './operations.js';
import { listTokens, revokeToken } from './repository.js';

export const createTokenBody = z.strictObject({ name: z.string().trim().min(1).max(100) });

const tokenResponse = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export function tokenRoutes(ctx: AppContext) {
  return [
    defineRoute({
      method: 'post',
      path: '/api/newsrooms/:slug/tokens',
      tag: 'Tokens',
      summary: 'Create a newsroom token (shown only in this answer)',
      access: 'admin',
      params: slugParams,
      body: createTokenBody,
      responses: {
        201: { description: 'Created', schema: z.object({ id: z.string(), token: z.string(), name: z.string(), createdAt: z.string() }) },
      },
      load: ({ params }) => getNewsroom(ctx, params.slug),
      handle: async ({ body, loaded: newsroom }) => ({ status: 201, body: await createToken(ctx, newsroom, body.name) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms/:slug/tokens',
      tag: 'Tokens',
      summary: "List a newsroom's tokens (never their secrets)",
      access: 'admin',
      params: slugParams,
      responses: { 200: { description: 'The tokens', schema: z.array(tokenResponse) } },
      load: ({ params }) => getNewsroom(ctx, params.slug),
      async handle({ loaded: newsroom }) {
        const rows = await listTokens(ctx.db, newsroom.id);
        return {
          status: 200,
          body: rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at })),
        };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/newsrooms/:slug/tokens/:tokenId',
      tag: 'Tokens',
      summary: 'Revoke a newsroom token',
      access: 'admin',
      params: slugParams.extend({ tokenId: pathKey }),
      responses: { 204: { description: 'Revoked' } },
      load: ({ params }) => getNewsroom(ctx, params.slug),
      async handle({ params, loaded: newsroom }) {
        if (!(await revokeToken(ctx.db, newsroom.id, params.tokenId, isoTime(ctx.clock.now())))) {
          throw notFound('Token');
        }
        return { status: 204 };
      },
    }),
  ];
}
