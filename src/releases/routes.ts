import { z } from 'zod';
import { authorizeNewsroom } from '../auth/authorize.js';
import type { AppContext } from '../context.js';
import { defineRoute } from '../lib/routes.js';
import { isoTime } from '../lib/time.js';
import { getNewsroom } from '../newsrooms/operations.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import {
  createRelease,
  deleteRelease,
  getReleaseForStaff,
  publishRelease,
  scheduleRelease,
  unscheduleRelease,
  updateRelease,
  withdrawRelease,
} from './operations.js';
import { presentRelease } from './presenter.js';
import { countDeliveries, listReleases, type Release } from './repository.js';
import {
  createReleaseBody,
  deliveriesResponse,
  listReleasesParams,
  listReleasesQuery,
  releaseParams,
  releaseResponse,
  scheduleBody,
  updateReleaseBody,
} from './schemas.js';

export function releaseRoutes(ctx: AppContext) {
  const present = (release: Release) => presentRelease(release, ctx.config.publicUrl, ctx.clock.now());
  const ok = (release: Release) => ({ status: 200, body: present(release) });

  /** The lifecycle actions share one shape: load, authorize, act, present. */
  const action = (name: string, summary: string, act: (release: Release) => Promise<Release>) =>
    defineRoute({
      method: 'post',
      path: `/api/releases/:id/${name}`,
      tag: 'Releases',
      summary,
      access: 'token',
      params: releaseParams,
      responses: { 200: { description: 'The release after the change', schema: releaseResponse } },
      async handle({ params, principal }) {
        return ok(await act(await getReleaseForStaff(ctx, params.id, principal)));
      },
    });

  return [
    defineRoute({
      method: 'post',
      path: '/api/newsrooms/:slug/releases',
      tag: 'Releases',
      summary: 'Write a new release (a draft)',
      access: 'token',
      params: listReleasesParams,
      body: createReleaseBody,
      responses: { 201: { description: 'Created', schema: releaseResponse } },
      async handle({ params, body, principal }) {
        const newsroom = await getNewsroom(ctx, params.slug);
        authorizeNewsroom(principal, newsroom.id);
        return { status: 201, body: present(await createRelease(ctx, newsroom, body)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms/:slug/releases',
      tag: 'Releases',
      summary: "List a newsroom's releases, newest first; the Link header points to the next page",
      access: 'token',
      params: listReleasesParams,
      query: listReleasesQuery,
      responses: { 200: { description: 'The releases', schema: z.array(releaseResponse) } },
      async handle({ params, query, principal, req }) {
        const newsroom = await getNewsroom(ctx, params.slug);
        authorizeNewsroom(principal, newsroom.id);
        const releases = await listReleases(ctx.db, newsroom.id, { ...query, now: isoTime(ctx.clock.now()) });
        const headers: Record<string, string> = {};
        if (releases.length === query.limit) {
          const next = new URL(req.originalUrl, ctx.config.publicUrl);
          next.searchParams.set('offset', String(query.offset + query.limit));
          next.searchParams.set('limit', String(query.limit));
          headers.Link = `<${next.href}>; rel="next"`;
        }
        return { status: 200, body: releases.map(present), headers };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/releases/:id',
      tag: 'Releases',
      summary: 'Get a release',
      access: 'token',
      params: releaseParams,
      responses: { 200: { description: 'The release', schema: releaseResponse } },
      async handle({ params, principal }) {
        return ok(await getReleaseForStaff(ctx, params.id, principal));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/releases/:id',
      tag: 'Releases',
      summary: 'Edit a release; a translation given replaces that language only (null removes it)',
      access: 'token',
      params: releaseParams,
      body: updateReleaseBody,
      responses: { 200: { description: 'Updated', schema: releaseResponse } },
      async handle({ params, body, principal }) {
        const release = await getReleaseForStaff(ctx, params.id, principal);
        const newsroom = (await findNewsroomById(ctx.db, release.newsroomId))!;
        return ok(await updateRelease(ctx, newsroom, release, body));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/releases/:id',
      tag: 'Releases',
      summary: 'Delete a draft',
      access: 'token',
      params: releaseParams,
      responses: { 204: { description: 'Deleted' } },
      async handle({ params, principal }) {
        await deleteRelease(ctx, await getReleaseForStaff(ctx, params.id, principal));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/releases/:id/schedule',
      tag: 'Releases',
      summary: 'Schedule (or move) the publication time; the release stays under embargo until then',
      access: 'token',
      params: releaseParams,
      body: scheduleBody,
      responses: { 200: { description: 'Scheduled', schema: releaseResponse } },
      async handle({ params, body, principal }) {
        return ok(await scheduleRelease(ctx, await getReleaseForStaff(ctx, params.id, principal), body.publishAt));
      },
    }),
    action('unschedule', 'Take a scheduled release back to draft', (r) => unscheduleRelease(ctx, r)),
    action('publish', 'Publish now', (r) => publishRelease(ctx, r)),
    action('withdraw', 'Withdraw a published release: its pages answer 410 and it leaves every feed', (r) =>
      withdrawRelease(ctx, r),
    ),
    defineRoute({
      method: 'get',
      path: '/api/releases/:id/deliveries',
      tag: 'Releases',
      summary: 'Email delivery counts of a release',
      access: 'token',
      params: releaseParams,
      responses: { 200: { description: 'Counts by delivery state', schema: deliveriesResponse } },
      async handle({ params, principal }) {
        const release = await getReleaseForStaff(ctx, params.id, principal);
        const counts = await countDeliveries(ctx.db, release.id);
        const of = (state: string) => counts[state] ?? 0;
        return {
          status: 200,
          body: {
            total: Object.values(counts).reduce((a, b) => a + b, 0),
            queued: of('queued'),
            sent: of('sent'),
            failed: of('failed'),
            skipped: of('skipped'),
          },
        };
      },
    }),
  ];
}
