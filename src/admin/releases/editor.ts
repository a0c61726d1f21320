import type { Request, Response, Router } from 'express';
import Handlebars from 'handlebars';
import { liveLinkIds } from '../../advance/repository.js';
import { listContacts } from '../../contacts/repository.js';
import { createContactBody } from '../../contacts/schemas.js';
import { type AppError, unprocessable } from '../../lib/errors.js';
import { renderMarkdown } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { registerHelper, templateBeside } from '../../lib/templates.js';
import { isoTime } from '../../lib/time.js';
import type { Newsroom } from '../../newsrooms/repository.js';
import { addNewContact, createRelease, updateRelease } from '../../releases/operations.js';
import type { Release } from '../../releases/repository.js';
import { requireEditKind } from '../../releases/corrections.js';
import { createReleaseBody, limits, releaseTypes, updateReleaseBody } from '../../releases/schemas.js';
import { effectivePublishedAt, effectiveStatus, isPublic, type ReleaseStatus } from '../../releases/visibility.js';
import { staffFileUrls } from '../../site/urls.js';
import { contactForm, contactInput } from '../contacts/form.js';
import { CSRF_FIELD } from '../csrf.js';
import { attempt, list, parseWith } from '../forms.js';
import { param, type StaffPages } from '../staff.js';
import { fieldErrorText, FormState, langOf, languageName, pageHeaders, problemText } from '../views.js';
import { instantToZoned, zonedToInstant } from '../zoned.js';
import { readProgress, renderDeliveryReport, showsWhile, stateView } from './deliveries.js';
import { backToRelease, loadRelease } from './release.js';

/*
 * A release's page: the editor of its language versions, type, keywords and contacts
 * (a new contact too), with the live Markdown preview. Its other sections have their
 * routes beside this file: lifecycle.ts, deliveries.ts, attachments.ts, previews.ts.
 */

const view = templateBeside(import.meta.url, 'editor.hbs');
/** Ids of the editor's "new contact" fields, apart from the release's own. */
const NEW_CONTACT_PREFIX = 'nc-';

const EVENT_FIELDS = ['startsAt', 'endsAt', 'place', 'onlineUrl'] as const;

/**
 * The event fields in the shape the API takes, the times read in the newsroom's zone; null
 * when all are empty (no event). A time that is no date and time is refused here, in words
 * for the form rather than the API's ISO 8601 ones.
 */
function eventInput(form: URLSearchParams, newsroom: Newsroom, lang: string) {
  const [startsAt, endsAt, place, onlineUrl] = EVENT_FIELDS.map((name) => (form.get(`event.${name}`) ?? '').trim());
  if (!startsAt && !endsAt && !place && !onlineUrl) return null;
  const instant = (name: string, local: string) => {
    const at = zonedToInstant(local, newsroom.timezone);
    if (!at) throw unprocessable('The event time is not valid.', [{ path: `event.${name}`, message: t(lang, 'admin.editor.event.invalid') }]);
    return isoTime(at);
  };
  return {
    startsAt: instant('startsAt', startsAt!),
    endsAt: endsAt ? instant('endsAt', endsAt) : null,
    place: place || null,
    onlineUrl: onlineUrl || null,
  };
}

/** The release's fields from the editor's form, in the shape the API's schemas take. */
function releaseInput(form: URLSearchParams, newsroom: Newsroom, lang: string, release?: Release) {
  const translations: Record<string, { title: string; lead: string; body: string } | null> = {};
  const keywords: Record<string, string[]> = {};
  for (const lang of newsroom.languages) {
    const entry = {
      title: form.get(`translations.${lang}.title`) ?? '',
      lead: form.get(`translations.${lang}.lead`) ?? '',
      body: (form.get(`translations.${lang}.body`) ?? '').replace(/\r\n/g, '\n'),
    };
    // A language left empty is not written in; emptied, it is removed.
    if (entry.title.trim() || entry.lead.trim() || entry.body.trim()) translations[lang] = entry;
    else if (release?.translations.some((tr) => tr.lang === lang)) translations[lang] = null;
    keywords[lang] = list(form.get(`keywords.${lang}`) ?? '');
  }
  return {
    type: form.get('type') ?? undefined,
    translations,
    keywords,
    contactIds: form.getAll('contactIds'),
    event: eventInput(form, newsroom, lang),
    change: changeInput(form, newsroom),
    // Only sent when ticked: an edit tells nobody unless staff choose to.
    notifyJournalists: form.get('notifyJournalists') === 'yes' || undefined,
  };
}

/**
 * What kind of edit of a published release the form says it is (the API's `change`): a
 * correction with the notes written, or a minor edit; none when nothing is chosen.
 */
function changeInput(form: URLSearchParams, newsroom: Newsroom) {
  const kind = form.get('change.kind');
  if (!kind) return undefined;
  if (kind !== 'correction') return { kind };
  const notes = newsroom.languages.map((code) => [code, (form.get(`change.note.${code}`) ?? '').trim()] as const);
  return { kind, note: Object.fromEntries(notes.filter(([, note]) => note)) };
}

export interface EditorState {
  form?: FormState;
  selectedContacts?: string[];
  problem?: string;
  conflict?: boolean;
  saved?: boolean;
  uploadProblem?: string;
  scheduleState?: FormState;
  attachmentState?: { id: string; state: FormState };
  newContactState?: FormState;
  newContactProblem?: string;
}

/** The release's page: its email delivery (once public), the editor with its attachments, and the publication panel. */
export async function showEditor(
  { ctx, show }: StaffPages,
  req: Request,
  res: Response,
  newsroom: Newsroom,
  release: Release | undefined,
  s: EditorState,
  status = 200,
) {
  const lang = langOf(res);
  const form = s.form ?? new FormState(lang);
  const at = ctx.clock.now();
  const state = release ? effectiveStatus(release, at) : 'draft';
  const contacts = await listContacts(ctx.db, newsroom.id);
  const selected = s.selectedContacts ?? release?.contacts.map((c) => c.id) ?? [];
  const fieldNames: string[] = ['type', 'contactIds'];
  const languages = newsroom.languages.map((code, index) => {
    const tr = release?.translations.find((x) => x.lang === code);
    const names = {
      title: `translations.${code}.title`,
      lead: `translations.${code}.lead`,
      body: `translations.${code}.body`,
      keywords: `keywords.${code}`,
    };
    fieldNames.push(...Object.values(names), `translations.${code}`);
    return {
      code,
      name: languageName(code, lang),
      first: index === 0,
      title: form.field(names.title, tr?.title),
      lead: form.field(names.lead, tr?.lead),
      body: form.field(names.body, tr?.body),
      keywords: form.field(names.keywords, release?.keywords[code]?.join(', ')),
      previewHtml: tr?.bodyHtml ?? '',
      hasErrors: form.errors.some((e) => e.path.startsWith(`translations.${code}`) || e.path.startsWith(`keywords.${code}`)),
    };
  });
  fieldNames.push('translations', 'event', ...EVENT_FIELDS.map((name) => `event.${name}`));
  const chosenKind = form.values.get('change.kind');
  const change = {
    // Its own errors only: a note's show at the note.
    field: { ...form.field('change'), errors: form.errors.filter((e) => e.path === 'change').map((e) => fieldErrorText(lang, e)) },
    correction: chosenKind === 'correction',
    minor: chosenKind === 'minor',
    // A note for each language the release is written in (a new one's after saving it).
    notes: (release?.translations ?? []).map(({ lang: code }) => ({ name: languageName(code, lang), field: form.field(`change.note.${code}`) })),
  };
  fieldNames.push('change', ...(release?.translations ?? []).map(({ lang: code }) => `change.note.${code}`));
  const eventTime = (iso: string | null | undefined) => (iso ? instantToZoned(iso, newsroom.timezone) : '');
  const event = {
    hasErrors: form.errors.some((e) => e.path === 'event' || e.path.startsWith('event.')),
    startsAt: form.field('event.startsAt', eventTime(release?.event?.startsAt)),
    endsAt: form.field('event.endsAt', eventTime(release?.event?.endsAt)),
    place: form.field('event.place', release?.event?.place ?? ''),
    onlineUrl: form.field('event.onlineUrl', release?.event?.onlineUrl ?? ''),
  };
  const type = form.values.get('type') ?? release?.type ?? 'press-release';
  const schedule = s.scheduleState ?? new FormState(lang);
  const published = release && effectivePublishedAt(release, at);
  const attachments = (release?.attachments ?? []).map((a) => {
    const caption = JSON.parse(a.caption) as Record<string, string>;
    const own = s.attachmentState?.id === a.id ? s.attachmentState.state : new FormState(lang, new Map(), [], `a-${a.id}-`);
    return {
      id: a.id,
      filename: a.filename,
      size: Number(a.size),
      url: staffFileUrls.file(a.id, a.filename),
      thumbnail: a.rendition ? staffFileUrls.rendition(a.id) : undefined,
      captions: newsroom.languages.map((code) => ({ code, name: languageName(code, lang), field: own.field(`caption.${code}`, caption[code]) })),
      credit: own.field('credit', a.credit ?? ''),
      summary: own.summary(['credit', ...newsroom.languages.map((code) => `caption.${code}`)]),
    };
  });
  const title = release
    ? (release.translations.find((x) => x.lang === lang) ?? release.translations[0])?.title ?? t(lang, 'admin.editor.untitled')
    : t(lang, 'admin.editor.newTitle');
  const progress = release && (await readProgress(ctx, release.id));
  // Offered while the release is scheduled and journalists hold live advance links to it.
  const liveLinks = release && state === 'scheduled' ? (await liveLinkIds(ctx.db, release.id)).length : 0;
  await show(req, res, view, title, {
    timezone: newsroom.timezone,
    release: release && {
      id: release.id,
      state: stateView(release, at, lang, newsroom.timezone),
      scheduled: state === 'scheduled',
      updatedAt: release.updatedAt,
      // A published release edited after publication shows as updated.
      updated: !!published && (state === 'published' || state === 'withdrawn') && Date.parse(release.updatedAt) > Date.parse(published),
      // Followed live until nothing more changes by itself (see deliveries.ts).
      live: progress && !progress.settled ? `/admin/releases/${encodeURIComponent(release.id)}/live?${new URLSearchParams({ since: release.updatedAt })}` : undefined,
      deliveries: progress?.counts,
      progressMax: Math.max(1, progress?.counts.total ?? 0),
      deliveryReport: state === 'published' || state === 'withdrawn' ? await renderDeliveryReport(ctx, release.id, newsroom, lang) : '',
      previews: release.translations.map(({ lang: code }) => ({
        name: languageName(code, lang),
        pageUrl: `/admin/releases/${encodeURIComponent(release.id)}/preview/${encodeURIComponent(code)}`,
        emailUrl: `/admin/releases/${encodeURIComponent(release.id)}/email/${encodeURIComponent(code)}`,
      })),
    },
    status: state,
    action: release ? `/admin/releases/${encodeURIComponent(release.id)}` : '/admin/releases/new',
    version: form.values.get('version') ?? (release ? String(release.version) : ''),
    languages,
    multilingual: languages.length > 1,
    types: releaseTypes.map((value) => ({ value, label: t(lang, `common.type.${value}`), selected: value === type })),
    typeField: form.field('type'),
    event,
    change,
    notifyJournalists: liveLinks ? { count: liveLinks, checked: form.values.get('notifyJournalists') === 'yes' } : undefined,
    corrections: (release?.corrections ?? []).map((c) => ({
      kind: t(lang, `admin.corrections.kind.${c.kind}`),
      at: c.at,
      note: c.note[lang] ?? Object.values(c.note)[0] ?? '',
      notifiedAt: c.noticeClaimedAt,
      // Those who got the release may be told of a correction while it is public, of its withdrawal after.
      notifyUrl:
        !c.noticeClaimedAt && ((c.kind === 'correction' && state === 'published') || (c.kind === 'withdrawal' && state === 'withdrawn'))
          ? `/admin/releases/${encodeURIComponent(release!.id)}/corrections/${encodeURIComponent(c.id)}/notify`
          : undefined,
    })),
    contactsField: form.field('contactIds'),
    contacts: contacts.map((c) => ({ id: c.id, name: c.name, title: c.title[lang] ?? Object.values(c.title)[0] ?? '', checked: selected.includes(c.id) })),
    summary: form.summary(fieldNames),
    problem: s.problem,
    conflict: s.conflict,
    saved: s.saved,
    uploadProblem: s.uploadProblem,
    uploadMax: ctx.config.uploadMaxBytes,
    publishAt: schedule.field('publishAt', release?.status === 'scheduled' && release.publishAt ? instantToZoned(release.publishAt, newsroom.timezone) : ''),
    scheduleSummary: schedule.summary(['publishAt']),
    attachments,
    captionLanguages: newsroom.languages.map((code) => ({ code, name: languageName(code, lang) })),
    newContact: {
      ...contactForm(newsroom, lang, s.newContactState ?? new FormState(lang, new Map(), [], NEW_CONTACT_PREFIX)),
      problem: s.newContactProblem,
    },
  }, status);
}

/*
 * `{{while "draft scheduled"}}` on an element of the release's page: it shows in those
 * statuses only (`hidden` otherwise), and the page's script switches it when the status
 * changes live. Takes the status from the page's root.
 */
registerHelper('while', function (statuses: string, options: Handlebars.HelperOptions) {
  const status = (options.data?.root as { status?: ReleaseStatus }).status ?? 'draft';
  const escaped = Handlebars.Utils.escapeExpression(statuses);
  return new Handlebars.SafeString(`data-while="${escaped}"${showsWhile(status, statuses) ? '' : ' hidden'}`);
});

export function editorPages(router: Router, pages: StaffPages): void {
  const { ctx, staff, post, workingNewsroom } = pages;

  /** Re-shows the editor with what was sent and why the operation refused it. */
  const refusedEdit = (req: Request, res: Response, newsroom: Newsroom, release: Release | undefined, form: URLSearchParams, error: AppError) =>
    showEditor(pages, req, res, newsroom, release, {
      form: new FormState(langOf(res), new Map([...form].filter(([k]) => k !== CSRF_FIELD && k !== 'contactIds')), error.errors),
      selectedContacts: form.getAll('contactIds'),
      problem: problemText(langOf(res), error),
      conflict: error.status === 409,
    }, error.status);

  router.get('/releases/new', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (newsroom) await showEditor(pages, req, res, newsroom, undefined, {});
  }));

  router.post('/releases/new', post(async (req, res, session, form) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const outcome = await attempt(() => {
      const { change: _none, notifyJournalists: _nobody, ...input } = releaseInput(form, newsroom, langOf(res));
      return createRelease(ctx, newsroom, parseWith(createReleaseBody, { ...input, translations: Object.fromEntries(Object.entries(input.translations).filter(([, v]) => v)) }));
    });
    if (outcome.error) return refusedEdit(req, res, newsroom, undefined, form, outcome.error);
    res.redirect(303, `/admin/releases/${encodeURIComponent(outcome.value.id)}?saved=1`);
  }));

  router.get('/releases/:id', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    await showEditor(pages, req, res, newsroom, release, { saved: req.query.saved === '1' });
  }));

  router.post('/releases/:id', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    const expectedVersion = Number(form.get('version'));
    const outcome = await attempt(() => {
      const input = parseWith(updateReleaseBody, releaseInput(form, newsroom, langOf(res), release));
      requireEditKind(input.change, isPublic(release, ctx.clock.now()));
      return updateRelease(ctx, newsroom, release, input, { expectedVersion: Number.isInteger(expectedVersion) ? expectedVersion : -1 });
    });
    if (outcome.error) return refusedEdit(req, res, newsroom, release, form, outcome.error);
    res.redirect(303, `/admin/releases/${encodeURIComponent(release.id)}?saved=1`);
  }));

  /* A new contact from the editor: created and named on the release in one transaction. */

  router.post('/releases/:id/contacts', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(ctx, session, param(req, 'id'));
    const expectedVersion = Number(form.get('version'));
    const outcome = await attempt(() =>
      addNewContact(ctx, newsroom, release, parseWith(createContactBody, contactInput(form, newsroom)), Number.isInteger(expectedVersion) ? expectedVersion : -1),
    );
    if (outcome.error) {
      const values = new Map([...form].filter(([k]) => k !== CSRF_FIELD && k !== 'version'));
      const conflict = outcome.error.status === 409;
      return showEditor(pages, req, res, newsroom, release, {
        newContactState: new FormState(langOf(res), values, outcome.error.errors, NEW_CONTACT_PREFIX),
        ...(conflict ? { problem: problemText(langOf(res), outcome.error), conflict } : { newContactProblem: problemText(langOf(res), outcome.error) }),
      }, outcome.error.status);
    }
    backToRelease(res, release, '#f-contactIds');
  }));

  /** The live preview: Markdown rendered by the one sanitiser, as the release will show it. */
  router.post('/preview', post(async (_req, res, session, form) => {
    const markdown = (form.get('markdown') ?? '').slice(0, limits.body);
    pageHeaders(res);
    res.type('html').send(await renderMarkdown(markdown, { newsroom: session.newsroomId ?? '' }));
  }));
}
