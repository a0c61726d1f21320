import { z } from 'zod';
import type { AppContext } from '../context.js';
import { defineRoute } from '../lib/routes.js';
import { withUpload } from '../attachments/upload.js';
import { LOGO_MAX_BYTES, removeLogo, serveLogo, setLogo } from './logo.js';
import { createNewsroom, getNewsroom, getNewsroomForStaff, updateNewsroom } from './operations.js';
import { presentNewsroom } from './presenter.js';
import { listNewsrooms } from './repository.js';
import { createNewsroomBody, logoFileParams, logoForm, newsroomResponse, slugParams, updateNewsroomBody } from './schemas.js';

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
      load: ({ params }) => getNewsroom(ctx, params.slug),
      handle: ({ loaded }) => ({ status: 200, body: presentNewsroom(loaded, base) }),
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
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ body, loaded }) {
        return { status: 200, body: presentNewsroom(await updateNewsroom(ctx, loaded, body), base) };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/newsrooms/:slug/logo',
      tag: 'Newsrooms',
      summary: "Set or replace the newsroom's logo (multipart/form-data: file; PNG, JPEG or WebP, at most 2 MB)",
      access: 'token',
      params: slugParams,
      multipart: logoForm,
      responses: { 200: { description: 'The newsroom, with its new logoUrl', schema: newsroomResponse } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ loaded, req }) {
        const newsroom = await withUpload(ctx.files, req, LOGO_MAX_BYTES, (form) => setLogo(ctx, loaded, form));
        return { status: 200, body: presentNewsroom(newsroom, base) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/newsrooms/:slug/logo',
      tag: 'Newsrooms',
      summary: "Remove the newsroom's logo",
      access: 'token',
      params: slugParams,
      responses: { 204: { description: 'Removed (or there was none)' } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ loaded }) {
        await removeLogo(ctx, loaded);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/files/logo/:slug/:file',
      tag: 'Files',
      summary: "A newsroom's logo (PNG) at the logoUrl of the newsroom; cached for a year, since a new logo gets a new URL",
      access: 'public',
      params: logoFileParams,
      responses: { 200: { description: 'The logo', contentType: 'image/png' } },
      async handle({ params, res }) {
        await serveLogo(ctx, res, params.slug, params.file);
      },
    }),
  ];
}
