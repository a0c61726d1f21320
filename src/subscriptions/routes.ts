import type { AppContext } from '../context.js';
import { defineRoute } from '../lib/routes.js';
import { getNewsroom, getNewsroomForStaff } from '../newsrooms/operations.js';
import { slugParams } from '../newsrooms/schemas.js';
import {
  changeInvitationBudget,
  dataHeldAbout,
  deleteSubscriber,
  eraseAddress,
  exportSubscribers,
  getInvitationBudget,
  getSubscriberOf,
  importSubscribers,
  requestSubscription,
} from './operations.js';
import { csvColumns, presentDataHeld, presentSubscriber, sendSubscribersCsv } from './presenter.js';
import { countSubscribers, listSubscribers } from './repository.js';
import {
  dataSubjectBody,
  dataSubjectExport,
  erasureResult,
  importBody,
  importResult,
  invitationBudgetBody,
  invitationBudgetResponse,
  listQuery,
  subscribeAccepted,
  subscribeBody,
  subscribeForm,
  subscriberList,
  subscriberParams,
} from './schemas.js';

/** The one answer to every subscribe request that passes validation: it tells nothing about the address. */
export const SUBSCRIBE_ACCEPTED = {
  status: 'accepted' as const,
  detail: 'If the address can receive mail, a confirmation email is on its way. The subscription starts when it is confirmed.',
};

export function subscriptionRoutes(ctx: AppContext) {
  return [
    defineRoute({
      method: 'post',
      path: '/api/newsrooms/:slug/subscriptions',
      tag: 'Subscriptions',
      summary:
        'Subscribe to a newsroom by email (double opt-in). Also takes the HTML form of the public pages (application/x-www-form-urlencoded) and then answers with an HTML page.',
      access: 'public',
      params: slugParams,
      body: subscribeBody,
      form: subscribeForm,
      responses: {
        202: { description: 'Accepted; the same answer whether or not the address is known', schema: subscribeAccepted },
        422: { description: 'A language the newsroom does not have, or not an email address' },
      },
      load: ({ params }) => getNewsroom(ctx, params.slug),
      async handle({ body, loaded: newsroom, req }) {
        await requestSubscription(ctx, newsroom, body, req.ip ?? '');
        return { status: 202, body: SUBSCRIBE_ACCEPTED };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/newsrooms/:slug/subscribers/import',
      tag: 'Subscriptions',
      summary: 'Import an existing list as confirmed subscribers (admin; up to 10,000 per request, one transaction; no email)',
      access: 'admin',
      params: slugParams,
      body: importBody,
      responses: { 200: { description: 'What was imported, updated and rejected', schema: importResult } },
      load: ({ params }) => getNewsroom(ctx, params.slug),
      async handle({ body, loaded: newsroom }) {
        return { status: 200, body: await importSubscribers(ctx, newsroom, body) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms/:slug/invitation-budget',
      tag: 'Subscriptions',
      summary: "How many addresses the newsroom's staff may still invite (staff app, CSV upload) in the next 24 hours",
      access: 'token',
      params: slugParams,
      responses: { 200: { description: 'The budget and what is used of it', schema: invitationBudgetResponse } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ loaded: newsroom }) {
        return { status: 200, body: await getInvitationBudget(ctx, newsroom) };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/newsrooms/:slug/invitation-budget',
      tag: 'Subscriptions',
      summary: "Set the newsroom's own invitation budget (admin), or null to put it back on INVITATIONS_PER_DAY",
      access: 'admin',
      params: slugParams,
      body: invitationBudgetBody,
      responses: { 200: { description: 'The budget as set', schema: invitationBudgetResponse } },
      load: ({ params }) => getNewsroom(ctx, params.slug),
      async handle({ body, loaded: newsroom }) {
        return { status: 200, body: await changeInvitationBudget(ctx, newsroom, body.perDay) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms/:slug/subscribers',
      tag: 'Subscriptions',
      summary: "A newsroom's subscribers (paginated), with counts by status and by language",
      access: 'token',
      params: slugParams,
      query: listQuery,
      responses: { 200: { description: 'A page of subscribers, newest first', schema: subscriberList } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ query, loaded: newsroom }) {
        const [page, counts] = await Promise.all([listSubscribers(ctx.db, newsroom.id, query), countSubscribers(ctx.db, newsroom.id)]);
        return {
          status: 200,
          body: {
            items: page.items.map((s) => presentSubscriber(s, newsroom.slug)),
            total: page.total,
            limit: query.limit,
            offset: query.offset,
            counts,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms/:slug/subscribers/export',
      tag: 'Subscriptions',
      summary: "A newsroom's subscribers as CSV",
      access: 'token',
      params: slugParams,
      responses: { 200: { description: `CSV with a header row: ${csvColumns.join(', ')}`, contentType: 'text/csv' } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ loaded: newsroom, res }) {
        await sendSubscribersCsv(res, newsroom, exportSubscribers(ctx, newsroom));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/newsrooms/:slug/subscribers/:id',
      tag: 'Subscriptions',
      summary: 'Remove a subscriber and everything held about them in this newsroom',
      access: 'token',
      params: subscriberParams,
      responses: { 204: { description: 'Removed' } },
      load: async ({ params, principal }) => {
        const newsroom = await getNewsroomForStaff(ctx, params.slug, principal);
        return getSubscriberOf(ctx, newsroom, params.id);
      },
      async handle({ loaded: subscriber }) {
        await deleteSubscriber(ctx, subscriber);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/subscribers/data-export',
      tag: 'Subscriptions',
      summary:
        "A data subject's access request (admin): everything held about one address in every newsroom, as JSON. The address goes in the body, never in a URL (URLs are logged).",
      access: 'admin',
      body: dataSubjectBody,
      responses: { 200: { description: 'Everything held about the address', schema: dataSubjectExport } },
      async handle({ body }) {
        return { status: 200, body: presentDataHeld(body.email, await dataHeldAbout(ctx, body.email)) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/subscribers/erasure',
      tag: 'Subscriptions',
      summary: "A data subject's erasure request (admin): removes the address from every newsroom's subscribers and journalists",
      access: 'admin',
      body: dataSubjectBody,
      responses: { 200: { description: 'How many subscriber and journalist records were removed', schema: erasureResult } },
      async handle({ body }) {
        return { status: 200, body: await eraseAddress(ctx, body.email) };
      },
    }),
  ];
}
