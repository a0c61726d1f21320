import { z } from 'zod';
import type { AppContext } from '../context.js';
import { unauthorized } from '../lib/errors.js';
import { defineRoute, type Principal } from '../lib/routes.js';
import { isoTime } from '../lib/time.js';
import { getNewsroom, getNewsroomForStaff } from '../newsrooms/operations.js';
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
import { getPublicRelease, listPublicReleases } from './public.js';
import { listReleases, type Release } from './repository.js';
import {
  createReleaseBody,
  listReleasesParams,
  listReleasesQuery,
  releaseParams,
  releaseResponse,
  scheduleBody,
  updateReleaseBody,
  withdrawBody,
} from './schemas.js';

export function releaseRoutes(ctx: AppContext) {
  const present = (release: Release, options?: { withBodies: boolean }) =>
    presentRelease(release, ctx.config.publicUrl, ctx.clock.now(), options);
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
      errors: [409],
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
      errors: [503],
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ body, loaded: newsroom }) {
        return { status: 201, body: present(await createRelease(ctx, newsroom, body)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms/:slug/releases',
      tag: 'Releases',
      summary:
        "List a newsroom's releases; the Link header points to the next page. With a token of the newsroom: any status, newest first. " +
        'Without a token: published releases only, newest publication first.',
      access: 'public',
      params: listReleasesParams,
      query: listReleasesQuery,
      responses: { 200: { description: 'The releases', schema: z.array(releaseResponse) } },
      load: ({ params, principal }) =>
        principal ? getNewsroomForStaff(ctx, params.slug, principal) : getNewsroom(ctx, params.slug),
      async handle({ query, loaded: newsroom, principal, req }) {
        const withBodies = query.include === 'body';
        // One more than asked tells whether a next page exists.
        const page = { limit: query.limit + 1, offset: query.offset, withBodies };
        let releases: Release[];
        if (principal) {
          releases = await listReleases(ctx.db, newsroom.id, { ...page, status: query.status, now: isoTime(ctx.clock.now()) });
        } else {
          if (query.status && query.status !== 'published') throw unauthorized(`Listing ${query.status} releases needs a token.`);
          releases = await listPublicReleases(ctx, { ...page, newsroomId: newsroom.id });
        }
        const headers: Record<string, string> = {};
        if (releases.length > query.limit) {
          // From PUBLIC_URL, the path and the query only: never the Host or an absolute request target.
          const next = new URLSearchParams();
          if (query.status) next.set('status', query.status);
          if (query.include) next.set('include', query.include);
          next.set('limit', String(query.limit));
          next.set('offset', String(query.offset + query.limit));
          headers.Link = `<${ctx.config.publicUrl}${req.path}?${next}>; rel="next"`;
        }
        return { status: 200, body: releases.slice(0, query.limit).map((r) => present(r, { withBodies })), headers };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/releases/:id',
      tag: 'Releases',
      summary:
        'Get a release. With a token of its newsroom: in any status. Without a token: published ones only ' +
        '(410 once withdrawn, 404 under embargo or as a draft, as for an unknown id).',
      access: 'public',
      params: releaseParams,
      responses: { 200: { description: 'The release', schema: releaseResponse } },
      errors: [410],
      load: ({ params, principal }) => (principal ? loadRelease({ params, principal }) : getPublicRelease(ctx, params.id)),
      handle: ({ loaded }) => ok(loaded),
    }),
    defineRoute({
      method: 'patch',
      path: '/api/releases/:id',
      tag: 'Releases',
      summary:
        'Edit a release; a translation given replaces that language only (null removes it). Editing a published release needs `change`: ' +
        'a correction (with a public note per language) or a minor edit; it is recorded in `corrections`.',
      access: 'token',
      params: releaseParams,
      body: updateReleaseBody,
      responses: { 200: { description: 'Updated', schema: releaseResponse } },
      errors: [409],
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
      errors: [409],
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
      errors: [409],
      load: loadRelease,
      handle: async ({ body, loaded }) => ok(await scheduleRelease(ctx, loaded, body.publishAt)),
    }),
    action('unschedule', 'Take a scheduled release back to draft', (r) => unscheduleRelease(ctx, r)),
    action('publish', 'Publish now', (r) => publishRelease(ctx, r)),
    defineRoute({
      method: 'post',
      path: '/api/releases/:id/withdraw',
      tag: 'Releases',
      summary: 'Withdraw a published release, optionally with a public reason: it stops being public (reading it without a token answers 410)',
      access: 'token',
      params: releaseParams,
      body: withdrawBody,
      responses: { 200: { description: 'The release after the change', schema: releaseResponse } },
      errors: [409],
      load: loadRelease,
      handle: async ({ body, loaded }) => ok(await withdrawRelease(ctx, loaded, body.reason)),
    }),
  ];
}
