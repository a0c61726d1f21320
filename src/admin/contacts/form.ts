import type { Contact } from '../../contacts/repository.js';
import type { InterfaceLanguage } from '../../lib/i18n.js';
import type { Newsroom } from '../../newsrooms/repository.js';
import { orNull, text } from '../forms.js';
import { type FormState, languageName } from '../views.js';

/** The fields of a contact's form (on the contacts page and in the editor's "new contact"). */
export function contactForm(newsroom: Newsroom, lang: InterfaceLanguage, state: FormState, contact?: Contact) {
  const names = ['name', 'phone', 'email', ...newsroom.languages.map((code) => `title.${code}`)];
  return {
    name: state.field('name', contact?.name),
    phone: state.field('phone', contact?.phone ?? ''),
    email: state.field('email', contact?.email ?? ''),
    titles: newsroom.languages.map((code) => ({ code, name: languageName(code, lang), field: state.field(`title.${code}`, contact?.title[code]) })),
    summary: state.summary(names),
  };
}

/** A contact's fields from its form, in the shape the API's schemas take. */
export const contactInput = (form: URLSearchParams, newsroom: Newsroom) => ({
  name: text(form, 'name'),
  title: Object.fromEntries(newsroom.languages.map((code) => [code, text(form, `title.${code}`)])),
  phone: orNull(text(form, 'phone')),
  email: orNull(text(form, 'email')),
});
