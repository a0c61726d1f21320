import { randomUUID } from 'node:crypto';
import { type FieldError, unprocessable } from '../lib/errors.js';
import type { EditRecord, Release, ReleaseContent } from './repository.js';
import type { EditKind } from './schemas.js';

/*
 * An edit of a public release is a correction (with a public note per language) or a
 * minor edit, recorded as an event with what it changed (see CONTEXT.md, "Correction").
 */

/** Languages in `value` the release is not written in, as field errors under `path`. */
const otherLanguages = (path: string, value: Record<string, string>, languages: string[]): FieldError[] =>
  Object.keys(value)
    .filter((lang) => !languages.includes(lang))
    .map((lang) => ({ path: `${path}.${lang}`, message: `the release is not written in "${lang}"`, code: 'not_release_language', params: { lang } }));

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The fields an edit changes, named as the API names them (`translations.fi.body`, `keywords.sv`, ...). */
export function changedFields(before: Release, after: ReleaseContent): string[] {
  const fields: string[] = [];
  if (before.type !== after.type) fields.push('type');
  const langs = [...new Set([...before.translations.map((t) => t.lang), ...after.translations.map((t) => t.lang)])];
  for (const lang of langs) {
    const was = before.translations.find((t) => t.lang === lang);
    const is = after.translations.find((t) => t.lang === lang);
    if (!was || !is) fields.push(`translations.${lang}`);
    else for (const part of ['title', 'lead', 'body'] as const) if (was[part] !== is[part]) fields.push(`translations.${lang}.${part}`);
  }
  for (const lang of [...new Set([...Object.keys(before.keywords), ...Object.keys(after.keywords)])]) {
    if (!same(before.keywords[lang] ?? [], after.keywords[lang] ?? [])) fields.push(`keywords.${lang}`);
  }
  if (!same(before.contacts.map((c) => c.id), after.contactIds)) fields.push('contacts');
  if (!same(before.event, after.event)) fields.push('event');
  return fields;
}

/**
 * What to record of an edit: nothing for a release not public (a `change` given then is
 * refused), else the correction or minor edit `change` says, which must be given, a
 * correction's note in each of `languages` (the release's after the edit) and no other.
 */
/** The staff editor's own rule: an edit of a published release says what kind it is (the form asks). */
export function requireEditKind(change: EditKind | undefined, isPublic: boolean): void {
  if (isPublic && !change) {
    throw unprocessable('Editing a published release needs its kind: a correction with a note, or a minor edit.', [
      { path: 'change', message: 'required for a published release: a correction with a note, or a minor edit', code: 'change_required' },
    ]);
  }
}

export function editRecord(change: EditKind | undefined, isPublic: boolean, languages: string[]): Omit<EditRecord, 'fields'> | undefined {
  if (!isPublic) {
    if (change) throw unprocessable('Only an edit of a published release is a correction or a minor edit.', [
      { path: 'change', message: 'only for a published release', code: 'change_not_published' },
    ]);
    return undefined;
  }
  // Said nothing: a minor edit, as every edit was before corrections (the API's clients rely on it).
  if (!change || change.kind === 'minor') return { id: randomUUID(), kind: 'minor', note: {} };
  const errors: FieldError[] = [
    ...otherLanguages('change.note', change.note, languages),
    ...languages
      .filter((lang) => !change.note[lang])
      .map((lang) => ({ path: `change.note.${lang}`, message: 'a correction needs a note in each language of the release', code: 'note_missing' as const, params: { lang } })),
  ];
  if (errors.length) throw unprocessable('A correction needs a note in each language of the release.', errors);
  return { id: randomUUID(), kind: 'correction', note: change.note };
}

/** A withdrawal's public reason: in languages of the release only. */
export function checkWithdrawalReason(reason: Record<string, string>, languages: string[]): void {
  const errors = otherLanguages('reason', reason, languages);
  if (errors.length) throw unprocessable('The reason is in a language the release lacks.', errors);
}
