import type { Request, Response, Router } from 'express';
import { createContact, deleteContact, getContactForStaff, updateContact } from '../../contacts/operations.js';
import { type Contact, listContacts } from '../../contacts/repository.js';
import { createContactBody, updateContactBody } from '../../contacts/schemas.js';
import type { AppError } from '../../lib/errors.js';
import { t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import type { Newsroom } from '../../newsrooms/repository.js';
import { CSRF_FIELD } from '../csrf.js';
import { attempt, parseWith } from '../forms.js';
import { param, type StaffPages } from '../staff.js';
import { FormState, langOf, problemText } from '../views.js';
import { contactForm, contactInput } from './form.js';

/* The working newsroom's contact people: each editable in place, a new one, removal. */

const view = templateBeside(import.meta.url, 'contacts.hbs');

export function contactPages(router: Router, { ctx, show, staff, post, workingNewsroom }: StaffPages): void {
  async function showContacts(req: Request, res: Response, newsroom: Newsroom, editing?: { id: string; state: FormState; problem: string }, status = 200) {
    const lang = langOf(res);
    const contacts = await listContacts(ctx.db, newsroom.id);
    const formOf = (id: string, contact?: Contact) => ({
      id,
      ...contactForm(newsroom, lang, editing?.id === id ? editing.state : new FormState(lang, new Map(), [], `c-${id}-`), contact),
      problem: editing?.id === id ? editing.problem : undefined,
    });
    await show(req, res, view, t(lang, 'admin.contacts.title'), {
      contacts: contacts.map((c) => ({ ...formOf(c.id, c), displayName: c.name })),
      newContact: formOf('new'),
    }, status);
  }

  const refusedContact = (req: Request, res: Response, newsroom: Newsroom, id: string, form: URLSearchParams, error: AppError) =>
    showContacts(req, res, newsroom, {
      id,
      state: new FormState(langOf(res), new Map([...form].filter(([k]) => k !== CSRF_FIELD)), error.errors, `c-${id}-`),
      problem: problemText(langOf(res), error),
    }, error.status);

  router.get('/contacts', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (newsroom) await showContacts(req, res, newsroom);
  }));

  router.post('/contacts', post(async (req, res, session, form) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const outcome = await attempt(() => createContact(ctx, newsroom, parseWith(createContactBody, contactInput(form, newsroom))));
    if (outcome.error) return refusedContact(req, res, newsroom, 'new', form, outcome.error);
    res.redirect(303, '/admin/contacts');
  }));

  router.post('/contacts/:id', post(async (req, res, session, form) => {
    const { contact, newsroom } = await getContactForStaff(ctx, param(req, 'id'), session.principal);
    const outcome = await attempt(() => updateContact(ctx, newsroom, contact, parseWith(updateContactBody, contactInput(form, newsroom))));
    if (outcome.error) return refusedContact(req, res, newsroom, contact.id, form, outcome.error);
    res.redirect(303, '/admin/contacts');
  }));

  router.post('/contacts/:id/delete', post(async (req, res, session) => {
    const { contact } = await getContactForStaff(ctx, param(req, 'id'), session.principal);
    await deleteContact(ctx, contact);
    res.redirect(303, '/admin/contacts');
  }));
}
