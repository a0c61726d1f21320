import { z } from 'zod';
import { authorizeNewsroom } from '../auth/authorize.js';
import type { AppContext } from '../context.js';
import { defineRoute } from '../lib/routes.js';
import { getNewsroom } from '../newsrooms/operations.js';
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
      async handle({ params, body, principal }) {
        const newsroom = await getNewsroom(ctx, params.slug);
        authorizeNewsroom(principal, newsroom.id);
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
      async handle({ params, principal }) {
        const newsroom = await getNewsroom(ctx, params.slug);
        authorizeNewsroom(principal, newsroom.id);
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
        async handle({ params, principal }) {
          const { contact, newsroom } = await getContactForStaff(ctx, params.id, principal, slugOf(params));
          return { status: 200, body: presentContact(contact, newsroom.slug) };
        },
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
        async handle({ params, body, principal }) {
          const { contact, newsroom } = await getContactForStaff(ctx, params.id, principal, slugOf(params));
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
        async handle({ params, principal }) {
          const { contact } = await getContactForStaff(ctx, params.id, principal, slugOf(params));
          await deleteContact(ctx, contact);
          return { status: 204 };
        },
      }),
    ]),
  ];
}
