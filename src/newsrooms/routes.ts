import { z } from 'zod';
import { authorizeNewsroom } from '../auth/authorize.js';
import type { AppContext } from '../context.js';
import { defineRoute } from '../lib/routes.js';
import { createNewsroom, getNewsroom, updateNewsroom } from './operations.js';
import { presentNewsroom } from './presenter.js';
import { listNewsrooms } from './repository.js';
import { createNewsroomBody, newsroomResponse, slugParams, updateNewsroomBody } from './schemas.js';

export function newsroomRoutes(ctx: AppContext) {
  const base = ctx.config.publicUrl;
  return [
    defineRoute({
      method: 'post',
      path: '/api/newsrooms',
      tag: 'Newsrooms',
      summary: 'Create a newsroom',
      access: 'admin',
      body: createNewsroomBody,
      responses: { 201: { description: 'Created', schema: newsroomResponse } },
      async handle({ body }) {
        const newsroom = await createNewsroom(ctx, body);
        return { status: 201, body: presentNewsroom(newsroom, base) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms',
      tag: 'Newsrooms',
      summary: 'List every newsroom of the installation',
      access: 'admin',
      responses: { 200: { description: 'The newsrooms', schema: z.array(newsroomResponse) } },
      async handle() {
        return { status: 200, body: (await listNewsrooms(ctx.db)).map((n) => presentNewsroom(n, base)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms/:slug',
      tag: 'Newsrooms',
      summary: 'Get a newsroom (public)',
      access: 'public',
      params: slugParams,
      responses: { 200: { description: 'The newsroom', schema: newsroomResponse } },
      async handle({ params }) {
        return { status: 200, body: presentNewsroom(await getNewsroom(ctx, params.slug), base) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/newsrooms/:slug',
      tag: 'Newsrooms',
      summary: "Change a newsroom's languages, texts, time zone or links",
      access: 'token',
      params: slugParams,
      body: updateNewsroomBody,
      responses: { 200: { description: 'Updated', schema: newsroomResponse } },
      async handle({ params, body, principal }) {
        const newsroom = await getNewsroom(ctx, params.slug);
        authorizeNewsroom(principal, newsroom.id);
        return { status: 200, body: presentNewsroom(await updateNewsroom(ctx, newsroom, body), base) };
      },
    }),
  ];
}
