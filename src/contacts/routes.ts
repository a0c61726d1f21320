import { z } from 'zod';
import type { AppContext } from '../context.js';
import { defineRoute } from '../lib/routes.js';
import { getNewsroomForStaff } from '../newsrooms/operations.js';
import { slugParams } from '../newsrooms/schemas.js';
import { createContact, deleteContact, getContactForStaff, updateContact } from './operations.js';
import { presentContact } from './presenter.js';
import { listContacts } from './repository.js';
import {
  contactParams,
  contactResponse,
  createContactBody,
  newsroomContactParams,
  updateContactBody,
} from './schemas.js';

export function contactRoutes(ctx: AppContext) {
  // A contact answers both under its newsroom and on its own, like releases do.
  const itemPaths = [
    { path: '/api/newsrooms/:slug/contacts/:id', params: newsroomContactParams },
    { path: '/api/contacts/:id', params: contactParams },
  ];
  const slugOf = (params: { id: string; slug?: string }) => params.slug;

  return [
    defineRoute({
      method: 'post',
      path: '/api/newsrooms/:slug/contacts',
      tag: 'Contacts',
      summary: 'Add a contact person to a newsroom',
      access: 'token',
      params: slugParams,
      body: createContactBody,
      responses: { 201: { description: 'Created', schema: contactResponse } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ body, loaded: newsroom }) {
        const contact = await createContact(ctx, newsroom, body);
        return { status: 201, body: presentContact(contact, newsroom.slug) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/newsrooms/:slug/contacts',
      tag: 'Contacts',
      summary: "List a newsroom's contact persons",
      access: 'token',
      params: slugParams,
      responses: { 200: { description: 'The contacts', schema: z.array(contactResponse) } },
      load: ({ params, principal }) => getNewsroomForStaff(ctx, params.slug, principal),
      async handle({ loaded: newsroom }) {
        const contacts = await listContacts(ctx.db, newsroom.id);
        return { status: 200, body: contacts.map((c) => presentContact(c, newsroom.slug)) };
      },
    }),
    ...itemPaths.flatMap(({ path, params }) => [
      defineRoute({
        method: 'get',
        path,
        tag: 'Contacts',
        summary: 'Get a contact person',
        access: 'token',
        params,
        responses: { 200: { description: 'The contact', schema: contactResponse } },
        load: ({ params, principal }) => getContactForStaff(ctx, params.id, principal, slugOf(params)),
        handle: ({ loaded: { contact, newsroom } }) => ({ status: 200, body: presentContact(contact, newsroom.slug) }),
      }),
      defineRoute({
        method: 'patch',
        path,
        tag: 'Contacts',
        summary: 'Change a contact person',
        access: 'token',
        params,
        body: updateContactBody,
        responses: { 200: { description: 'Updated', schema: contactResponse } },
        load: ({ params, principal }) => getContactForStaff(ctx, params.id, principal, slugOf(params)),
        async handle({ body, loaded: { contact, newsroom } }) {
          const updated = await updateContact(ctx, newsroom, contact, body);
          return { status: 200, body: presentContact(updated, newsroom.slug) };
        },
      }),
      defineRoute({
        method: 'delete',
        path,
        tag: 'Contacts',
        summary: 'Remove a contact person (also from the releases that name them)',
        access: 'token',
        params,
        responses: { 204: { description: 'Removed' } },
        load: ({ params, principal }) => getContactForStaff(ctx, params.id, principal, slugOf(params)),
        async handle({ loaded: { contact } }) {
          await deleteContact(ctx, contact);
          return { status: 204 };
        },
      }),
    ]),
  ];
}
