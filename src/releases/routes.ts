import { z } from 'zod';
import type { AppContext } from '../context.js';
import { defineRoute, type Principal } from '../lib/routes.js';
import { isoTime } from '../lib/time.js';
import { getNewsroomForStaff } from '../newsrooms/operations.js';
import { findNewsroomById } from '../newsrooms/repository.js';
import {
  createRelease,
  deleteRelease,
  getDeliveryCounts,
  getReleaseForStaff,
  publishRelease,
  scheduleRelease,
  unscheduleRelease,
  updateRelease,
  withdrawRelease,
} from './operations.js';
import { presentRelease } from './presenter.js';
import { listReleases, type Release } from './repository.js';
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
  const loadRelease = ({ params, principal }: { params: { id: string }; principal: Principal }) =>
    getReleaseForStaff(ctx, params.id, principal);

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
      load: loadRelease,
      handle: async ({ loaded }) => ok(await act(loaded)),
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
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ body, loaded: newsroom }) {
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
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ query, loaded: newsroom, req }) {
        // One more than asked tells whether a next page exists.
        const releases = await listReleases(ctx.db, newsroom.id, {
          ...query,
          limit: query.limit + 1,
          now: isoTime(ctx.clock.now()),
        });
        const headers: Record<string, string> = {};
        if (releases.length > query.limit) {
          // PUBLIC_URL may carry a path of its own (a proxy's prefix): append, don't resolve.
          const next = new URL(ctx.config.publicUrl + req.originalUrl);
          next.searchParams.set('offset', String(query.offset + query.limit));
          next.searchParams.set('limit', String(query.limit));
          headers.Link = `<${next.href}>; rel="next"`;
        }
        return { status: 200, body: releases.slice(0, query.limit).map(present), headers };
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
      load: loadRelease,
      handle: ({ loaded }) => ok(loaded),
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
      load: loadRelease,
      async handle({ body, loaded: release }) {
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
      load: loadRelease,
      async handle({ loaded }) {
        await deleteRelease(ctx, loaded);
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
      load: loadRelease,
      handle: async ({ body, loaded }) => ok(await scheduleRelease(ctx, loaded, body.publishAt)),
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
      load: loadRelease,
      handle: async ({ loaded: release }) => ({ status: 200, body: await getDeliveryCounts(ctx, release) }),
    }),
  ];
}
