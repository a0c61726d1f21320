import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type ErrorRequestHandler, type Request, type Response, Router } from 'express';
import type { z } from 'zod';
import { addAttachment, removeAttachment, updateAttachment } from '../attachments/operations.js';
import { updateAttachmentBody } from '../attachments/schemas.js';
import { serveAttachmentFile, type Variant } from '../attachments/serve.js';
import { withUpload } from '../attachments/upload.js';
import { tokenChecker } from '../auth/authenticate.js';
import { authorizeNewsroom } from '../auth/authorize.js';
import { createToken } from '../auth/operations.js';
import { listTokens, revokeToken } from '../auth/repository.js';
import { createTokenBody } from '../auth/routes.js';
import { createContact, deleteContact, getContactForStaff, updateContact } from '../contacts/operations.js';
import { type Contact, listContacts } from '../contacts/repository.js';
import { createContactBody, updateContactBody } from '../contacts/schemas.js';
import type { AppContext } from '../context.js';
import { deliveryCounts, tally } from '../delivery/counts.js';
import { deliveryReport, sentPerInterval } from '../delivery/repository.js';
import { renderEmailPreview } from '../delivery/render.js';
import { PUBLIC_BODY_LIMIT } from '../lib/bodies.js';
import { projectRoot } from '../lib/config.js';
import { AppError, conflict, forbidden, invalidSchemaInput, notFound } from '../lib/errors.js';
import { renderMarkdown } from '../lib/html.js';
import { t } from '../lib/i18n.js';
import { isoTime } from '../lib/time.js';
import { LOGO_MAX_BYTES, removeLogo, setLogo } from '../newsrooms/logo.js';
import { createNewsroom, getNewsroom, updateNewsroom } from '../newsrooms/operations.js';
import { findNewsroomById, listNewsrooms, type Newsroom } from '../newsrooms/repository.js';
import { createNewsroomBody, updateNewsroomBody } from '../newsrooms/schemas.js';
import {
  addNewContact,
  createRelease,
  getReleaseForStaff,
  listReleasesForStaff,
  publishRelease,
  scheduleRelease,
  unscheduleRelease,
  updateRelease,
  withdrawRelease,
} from '../releases/operations.js';
import type { Release } from '../releases/repository.js';
import { createReleaseBody, limits, releaseTypes, scheduleBody, updateReleaseBody } from '../releases/schemas.js';
import { effectivePublishedAt, effectiveStatus, releaseStatuses, type ReleaseStatus } from '../releases/visibility.js';
import { renderReleasePreview, sendReleasePreview } from '../site/routes.js';
import { newsroomLogoUrl, staffFileUrls } from '../site/urls.js';
import { CSRF_FIELD, checkCsrf, csrfToken } from './csrf.js';
import { readForm } from './forms.js';
import {
  endSession,
  loadSession,
  PRESESSION_COOKIE,
  preSessionId,
  readCookie,
  type Session,
  startSession,
  switchNewsroom,
  unsignValue,
} from './session.js';
import { SignInThrottle } from './throttle.js';
import { subscriberPages } from './subscribers.js';
import { fieldErrorText, FormState, LANG_COOKIE, chooseLanguage, langOf, languageName, pageHeaders, problemText, render } from './views.js';
import { instantToZoned, zonedToInstant } from './zoned.js';

/*
 * The staff web app under /admin: server-rendered pages over the same operations and
 * schemas as the API. Forms post urlencoded bodies (uploads: multipart); every post
 * carries the session's CSRF token. Scripts only enhance (see templates/admin/static).
 */

const staticDir = path.join(projectRoot, 'templates', 'admin', 'static');
const PAGE_SIZE = 50;
/** Ids of the editor's "new contact" fields, apart from the release's own. */
const NEW_CONTACT_PREFIX = 'nc-';
const STREAM_INTERVAL_MS = 1000;
const MAX_STREAM_MS = 10 * 60 * 1000;

type Lang = 'fi' | 'sv' | 'en';
type Handler = (req: Request, res: Response, session: Session) => Promise<void>;
type FormHandler = (req: Request, res: Response, session: Session, form: URLSearchParams) => Promise<void>;

/** What the pages of this app share with those kept in modules of their own (subscribers.ts). */
export interface StaffPages {
  /** Renders `view` in the layout, with what every page needs. */
  show(req: Request, res: Response, view: string, title: string, data: Record<string, unknown>, status?: number): Promise<void>;
  /** Signed-in staff only. */
  staff(handler: Handler): (req: Request, res: Response) => Promise<void>;
  /** A urlencoded form post of signed-in staff, its CSRF token checked. */
  post(handler: FormHandler): (req: Request, res: Response) => Promise<void>;
  /** The newsroom the session works in (undefined: the admin was sent to pick one). */
  workingNewsroom(res: Response, session: Session): Promise<Newsroom | undefined>;
}

/** Input checked by the endpoint's own schema: a 422 with field errors, as the API gives. */
function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidSchemaInput(result.error, 'body');
  return result.data;
}

/** Runs an operation; a refusal the form can show (422, 409) comes back instead of being thrown. */
async function attempt<T>(run: () => Promise<T>): Promise<{ value: T; error?: undefined } | { value?: undefined; error: AppError }> {
  try {
    return { value: await run() };
  } catch (error) {
    if (error instanceof AppError && (error.status === 422 || error.status === 409)) return { error };
    throw error;
  }
}

/** A refused upload in one line, shown next to the file field: the problem and each field's error. */
/** A refused upload in one sentence: the refusal, then each field error, in the interface language. */
const uploadProblemText = (lang: Lang, error: AppError) =>
  [problemText(lang, error), ...error.errors.map((e) => `${e.path}: ${fieldErrorText(lang, e)}`)].join(' ');

const text = (form: URLSearchParams, name: string) => (form.get(name) ?? '').trim();
const orNull = (value: string) => (value === '' ? null : value);
const list = (value: string) => value.split(',').map((k) => k.trim()).filter(Boolean);
const display = (newsroom: Newsroom, lang: string) => newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? newsroom.slug;

/** `network = handle` per line, the form of social links in the settings. */
function parseSocial(value: string): Record<string, string> {
  return Object.fromEntries(
    value
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const eq = line.indexOf('=');
        return eq < 0 ? [line, ''] : [line.slice(0, eq).trim(), line.slice(eq + 1).trim()];
      }),
  );
}

export function adminRoutes(ctx: AppContext): Router {
  const router = Router();
  const checkToken = tokenChecker(ctx);
  const throttle = new SignInThrottle(() => ctx.clock.now().getTime());
  const now = () => ctx.clock.now();

  router.use('/static', express.static(staticDir, { index: false, maxAge: '1h', fallthrough: false }));

  router.use(async (req, res, next) => {
    res.locals.lang = chooseLanguage(req, res, readCookie(req, LANG_COOKIE));
    res.locals.session = await loadSession(ctx, req, res);
    next();
  });

  /** What every page's layout needs, with the page's own data. */
  async function show(req: Request, res: Response, view: string, title: string, data: Record<string, unknown>, status = 200) {
    const lang = langOf(res);
    const session = res.locals.session as Session | undefined;
    const newsroom = session?.newsroomId ? await findNewsroomById(ctx.db, session.newsroomId) : undefined;
    const here = req.method === 'GET' ? req.baseUrl + req.path : '/admin/releases';
    render(
      res,
      view,
      {
        lang,
        title,
        pageTitle: `${title} – ${t(lang, 'admin.appName')}`,
        signedIn: !!session,
        isAdmin: session?.principal.kind === 'admin',
        csrf: session ? csrfToken(ctx, session.id) : undefined,
        currentNewsroom: newsroom && { slug: newsroom.slug, name: display(newsroom, lang) },
        languageLinks: (['fi', 'sv', 'en'] as const).map((code) => ({
          code,
          name: languageName(code, code),
          href: `${here}?lang=${code}`,
          current: code === lang,
        })),
        ...data,
      },
      status,
    );
  }

  /** Signed-in staff only: a page asks to sign in, a post whose session ended says so. */
  const staff =
    (handler: Handler) =>
    async (req: Request, res: Response): Promise<void> => {
      const session = res.locals.session as Session | undefined;
      if (session) return handler(req, res, session);
      if (req.method === 'GET') return res.redirect(303, '/admin/sign-in');
      await show(req, res, 'signed-out', t(langOf(res), 'admin.signedOut.title'), {}, 401);
    };

  const post = (handler: FormHandler) =>
    staff(async (req, res, session) => {
      const form = await readForm(req);
      checkCsrf(ctx, req, session.id, form.get(CSRF_FIELD));
      await handler(req, res, session, form);
    });

  const adminOnly = (session: Session) => {
    if (session.principal.kind !== 'admin') throw forbidden('Only the service admin may do this.');
  };

  /** The newsroom the session works in; the admin who has not picked one is sent to pick. */
  async function workingNewsroom(res: Response, session: Session): Promise<Newsroom | undefined> {
    const newsroom = session.newsroomId ? await findNewsroomById(ctx.db, session.newsroomId) : undefined;
    if (!newsroom) {
      res.redirect(303, '/admin/newsrooms');
      return undefined;
    }
    authorizeNewsroom(session.principal, newsroom.id);
    return newsroom;
  }

  async function loadRelease(session: Session, id: string): Promise<{ release: Release; newsroom: Newsroom }> {
    const release = await getReleaseForStaff(ctx, id, session.principal);
    const newsroom = await findNewsroomById(ctx.db, release.newsroomId);
    if (!newsroom) throw notFound('Newsroom');
    return { release, newsroom };
  }

  const param = (req: Request, name: string) => String(req.params[name]);

  /* Sign-in and sign-out */

  router.get('/', staff(async (_req, res) => res.redirect(303, '/admin/releases')));

  async function showSignIn(req: Request, res: Response, state: FormState, status = 200, notice?: string) {
    const csrf = csrfToken(ctx, preSessionId(ctx, req, res));
    await show(req, res, 'sign-in', t(langOf(res), 'admin.signIn.title'), {
      csrf,
      token: state.field('token'),
      summary: state.summary(['token']),
      notice,
    }, status);
  }

  router.get('/sign-in', async (req, res) => {
    if (res.locals.session) return res.redirect(303, '/admin/releases');
    await showSignIn(req, res, new FormState(langOf(res)));
  });

  router.post('/sign-in', async (req, res) => {
    const lang = langOf(res);
    const address = req.ip ?? 'unknown';
    const lockedFor = throttle.lockedFor(address);
    if (lockedFor !== undefined) {
      res.set('Retry-After', String(lockedFor));
      return showSignIn(req, res, new FormState(lang), 429, t(lang, 'admin.signIn.tooMany', { minutes: Math.ceil(lockedFor / 60) }));
    }
    const form = await readForm(req, PUBLIC_BODY_LIMIT);
    const pre = unsignValue(ctx, readCookie(req, PRESESSION_COOKIE));
    checkCsrf(ctx, req, pre ?? '', pre ? form.get(CSRF_FIELD) : '');
    const token = text(form, 'token');
    const principal = token ? await checkToken(token) : undefined;
    if (!principal) {
      await sleep(throttle.fail(address));
      return showSignIn(req, res, new FormState(lang, new Map(), [{ path: 'token', message: t(lang, 'admin.signIn.invalid') }]), 401);
    }
    throttle.succeed(address);
    await startSession(ctx, res, principal);
    res.redirect(303, principal.kind === 'admin' ? '/admin/newsrooms' : '/admin/releases');
  });

  router.post(
    '/sign-out',
    post(async (_req, res, session) => {
      await endSession(ctx, res, session);
      res.redirect(303, '/admin/sign-in');
    }),
  );

  /* Newsrooms and tokens (the admin) */

  async function showNewsrooms(req: Request, res: Response, state: FormState, extra: Record<string, unknown> = {}, status = 200) {
    const lang = langOf(res);
    const newsrooms = await listNewsrooms(ctx.db);
    const session = res.locals.session as Session;
    const rows = await Promise.all(
      newsrooms.map(async (n) => ({
        slug: n.slug,
        name: display(n, lang),
        languages: n.languages.join(', '),
        current: n.id === session.newsroomId,
        tokens: (await listTokens(ctx.db, n.id)).map((tk) => ({
          id: tk.id,
          name: tk.name,
          createdAt: tk.created_at,
          lastUsedAt: tk.last_used_at,
          revokedAt: tk.revoked_at,
        })),
      })),
    );
    const fields = ['slug', 'languages', 'name', 'timezone'];
    await show(req, res, 'newsrooms', t(lang, 'admin.newsrooms.title'), {
      newsrooms: rows,
      fields: Object.fromEntries(fields.map((f) => [f, state.field(f, f === 'timezone' ? 'Europe/Helsinki' : '')])),
      summary: state.summary(fields),
      timezone: 'UTC',
      ...extra,
    }, status);
  }

  router.get('/newsrooms', staff(async (req, res, session) => {
    adminOnly(session);
    await showNewsrooms(req, res, new FormState(langOf(res)));
  }));

  router.post('/newsrooms/switch', post(async (_req, res, session, form) => {
    adminOnly(session);
    const newsroom = await getNewsroom(ctx, text(form, 'slug'));
    await switchNewsroom(ctx, session, newsroom.id);
    res.redirect(303, '/admin/releases');
  }));

  router.post('/newsrooms', post(async (req, res, session, form) => {
    adminOnly(session);
    const languages = list(text(form, 'languages'));
    const outcome = await attempt(() =>
      createNewsroom(
        ctx,
        parseWith(createNewsroomBody, {
          slug: text(form, 'slug'),
          languages,
          name: languages[0] ? { [languages[0]]: text(form, 'name') } : {},
          timezone: text(form, 'timezone') || undefined,
        }),
      ),
    );
    if (outcome.error) {
      // The name field stands for the name in the first language.
      const errors = outcome.error.errors.map((e) => (e.path.startsWith('name.') ? { ...e, path: 'name' } : e));
      const values = new Map([...form].filter(([k]) => k !== CSRF_FIELD));
      return showNewsrooms(req, res, new FormState(langOf(res), values, errors), { problem: problemText(langOf(res), outcome.error) }, outcome.error.status);
    }
    await switchNewsroom(ctx, session, outcome.value.id);
    res.redirect(303, '/admin/settings');
  }));

  router.post('/newsrooms/:slug/tokens', post(async (req, res, session, form) => {
    adminOnly(session);
    const newsroom = await getNewsroom(ctx, param(req, 'slug'));
    const outcome = await attempt(async () => createToken(ctx, newsroom, parseWith(createTokenBody, { name: text(form, 'name') }).name));
    if (outcome.error) return showNewsrooms(req, res, new FormState(langOf(res)), { problem: problemText(langOf(res), outcome.error) }, outcome.error.status);
    await showNewsrooms(req, res, new FormState(langOf(res)), { createdToken: { newsroom: newsroom.slug, token: outcome.value.token, name: outcome.value.name } });
  }));

  router.post('/newsrooms/:slug/tokens/:tokenId/revoke', post(async (req, res, session) => {
    adminOnly(session);
    const newsroom = await getNewsroom(ctx, param(req, 'slug'));
    if (!(await revokeToken(ctx.db, newsroom.id, param(req, 'tokenId'), isoTime(now())))) throw notFound('Token');
    res.redirect(303, '/admin/newsrooms');
  }));

  /* Releases */

  router.get('/releases', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const lang = langOf(res);
    const status = (releaseStatuses as readonly string[]).includes(String(req.query.status)) ? (req.query.status as ReleaseStatus) : undefined;
    const search = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : '';
    const page = Math.max(0, Math.min(10_000, Number.parseInt(String(req.query.page ?? '0'), 10) || 0));
    const releases = await listReleasesForStaff(ctx, newsroom, { status, search: search || undefined, limit: PAGE_SIZE + 1, offset: page * PAGE_SIZE });
    const at = now();
    const rows = await Promise.all(
      releases.slice(0, PAGE_SIZE).map(async (r) => {
        const state = effectiveStatus(r, at);
        const first = r.translations.find((tr) => tr.lang === lang) ?? r.translations[0];
        return {
          id: r.id,
          title: first?.title ?? '',
          titleLang: first?.lang,
          languages: r.translations.map((tr) => tr.lang).join(', '),
          status: state,
          statusLabel: t(lang, `admin.status.${state}`),
          time: effectivePublishedAt(r, at) ?? r.publishAt,
          updatedAt: r.updatedAt,
          deliveries: state === 'published' || state === 'withdrawn' ? await deliveryCounts(ctx, r.id) : undefined,
        };
      }),
    );
    const query = (p: number) => `?${new URLSearchParams({ ...(status ? { status } : {}), ...(search ? { q: search } : {}), page: String(p) })}`;
    await show(req, res, 'releases', t(lang, 'admin.releases.title'), {
      timezone: newsroom.timezone,
      releases: rows,
      search,
      statuses: releaseStatuses.map((s) => ({ value: s, label: t(lang, `admin.status.${s}`), selected: s === status })),
      previousPage: page > 0 ? query(page - 1) : undefined,
      nextPage: releases.length > PAGE_SIZE ? query(page + 1) : undefined,
    });
  }));

  /** The release's fields from the editor's form, in the shape the API's schemas take. */
  function releaseInput(form: URLSearchParams, newsroom: Newsroom, release?: Release) {
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
    return { type: form.get('type') ?? undefined, translations, keywords, contactIds: form.getAll('contactIds') };
  }

  interface EditorState {
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

  /** The fields of a contact's form (here and in the editor's "new contact"). */
  function contactForm(newsroom: Newsroom, lang: Lang, state: FormState, contact?: Contact) {
    const names = ['name', 'phone', 'email', ...newsroom.languages.map((code) => `title.${code}`)];
    return {
      name: state.field('name', contact?.name),
      phone: state.field('phone', contact?.phone ?? ''),
      email: state.field('email', contact?.email ?? ''),
      titles: newsroom.languages.map((code) => ({ code, name: languageName(code, lang), field: state.field(`title.${code}`, contact?.title[code]) })),
      summary: state.summary(names),
    };
  }

  async function showEditor(req: Request, res: Response, newsroom: Newsroom, release: Release | undefined, s: EditorState, status = 200) {
    const lang = langOf(res);
    const form = s.form ?? new FormState(lang);
    const at = now();
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
    fieldNames.push('translations');
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
    await show(req, res, 'editor', title, {
      timezone: newsroom.timezone,
      release: release && {
        id: release.id,
        status: state,
        statusLabel: t(lang, `admin.status.${state}`),
        publishAt: release.publishAt,
        publishedAt: published,
        updatedAt: release.updatedAt,
        // A published release edited after publication shows as updated.
        updated: !!published && (state === 'published' || state === 'withdrawn') && Date.parse(release.updatedAt) > Date.parse(published),
        canSchedule: state === 'draft' || state === 'scheduled',
        canUnschedule: state === 'scheduled',
        canPublish: state === 'draft' || state === 'scheduled',
        canWithdraw: state === 'published',
        editable: state !== 'withdrawn',
        deliveries: state === 'published' || state === 'withdrawn' ? await deliveryCounts(ctx, release.id) : undefined,
        deliveryReport: state === 'published' || state === 'withdrawn' ? await deliveryDetail(release.id, lang) : undefined,
        previews: release.translations.map(({ lang: code }) => ({
          name: languageName(code, lang),
          pageUrl: `/admin/releases/${encodeURIComponent(release.id)}/preview/${encodeURIComponent(code)}`,
          emailUrl: `/admin/releases/${encodeURIComponent(release.id)}/email/${encodeURIComponent(code)}`,
        })),
        uploadAction: `/admin/releases/${encodeURIComponent(release.id)}/attachments?${CSRF_FIELD}=${encodeURIComponent(csrfToken(ctx, (res.locals.session as Session).id))}`,
      },
      action: release ? `/admin/releases/${encodeURIComponent(release.id)}` : '/admin/releases/new',
      version: form.values.get('version') ?? (release ? String(release.version) : ''),
      languages,
      multilingual: languages.length > 1,
      types: releaseTypes.map((value) => ({ value, label: t(lang, `common.type.${value}`), selected: value === type })),
      typeField: form.field('type'),
      contactsField: form.field('contactIds'),
      contacts: contacts.map((c) => ({ id: c.id, name: c.name, title: c.title[lang] ?? Object.values(c.title)[0] ?? '', checked: selected.includes(c.id) })),
      summary: form.summary(fieldNames),
      problem: s.problem,
      conflict: s.conflict,
      saved: s.saved,
      uploadProblem: s.uploadProblem,
      publishAt: schedule.field('publishAt', release?.status === 'scheduled' && release.publishAt ? instantToZoned(release.publishAt, newsroom.timezone) : ''),
      scheduleSummary: schedule.summary(['publishAt']),
      attachments,
      captionLanguages: newsroom.languages.map((code) => ({ code, name: languageName(code, lang) })),
      newContact: {
        ...contactForm(newsroom, lang, s.newContactState ?? new FormState(lang, new Map(), [], NEW_CONTACT_PREFIX)),
        problem: s.newContactProblem,
      },
      bodyLimit: limits.body,
    }, status);
  }

  /** Per language counts and the latest failures with their SMTP reply, for the editor's delivery view. */
  async function deliveryDetail(releaseId: string, lang: string) {
    const report = await deliveryReport(ctx.db, releaseId, { limit: 20, offset: 0 });
    const languages = [...new Set(report.counts.map((c) => c.language).filter((l): l is string => !!l))];
    return {
      languages: languages.map((code) => ({ name: languageName(code, lang), ...tally(report.counts.filter((c) => c.language === code)) })),
      failures: report.failures,
      failureCount: report.failureCount,
      chart: report.firstSentAt && report.lastSentAt ? await sendingChart(releaseId, report.firstSentAt, report.lastSentAt, lang) : undefined,
    };
  }

  /** Messages sent over time as SVG bars (drawn here: no chart service, no script). */
  async function sendingChart(releaseId: string, first: string, last: string, lang: string) {
    const BARS = 30;
    const WIDTH = 300;
    const HEIGHT = 80;
    const span = Date.parse(last) - Date.parse(first) + 1;
    const intervalMs = Math.max(1000, Math.ceil(span / BARS / 1000) * 1000);
    const counts = await sentPerInterval(ctx.db, ctx.store.dialect, releaseId, first, intervalMs);
    const bars = Math.min(BARS, Math.ceil(span / intervalMs));
    const most = Math.max(1, ...counts.values());
    const barWidth = WIDTH / bars;
    return {
      width: WIDTH,
      height: HEIGHT,
      intervalSeconds: intervalMs / 1000,
      from: first,
      to: last,
      bars: Array.from({ length: bars }, (_, i) => {
        const count = counts.get(i) ?? 0;
        const height = Math.round((count / most) * HEIGHT * 10) / 10;
        return { x: Math.round(i * barWidth * 10) / 10, y: HEIGHT - height, width: Math.max(1, Math.round((barWidth - 1) * 10) / 10), height, count };
      }),
      label: intervalMs === 1000 ? t(lang, 'admin.deliveries.chartPerSecond') : t(lang, 'admin.deliveries.chart', { seconds: intervalMs / 1000 }),
    };
  }

  /** Re-shows the editor with what was sent and why the operation refused it. */
  const refusedEdit = (req: Request, res: Response, newsroom: Newsroom, release: Release | undefined, form: URLSearchParams, error: AppError) =>
    showEditor(req, res, newsroom, release, {
      form: new FormState(langOf(res), new Map([...form].filter(([k]) => k !== CSRF_FIELD && k !== 'contactIds')), error.errors),
      selectedContacts: form.getAll('contactIds'),
      problem: problemText(langOf(res), error),
      conflict: error.status === 409,
    }, error.status);

  router.get('/releases/new', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (newsroom) await showEditor(req, res, newsroom, undefined, {});
  }));

  router.post('/releases/new', post(async (req, res, session, form) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const input = releaseInput(form, newsroom);
    const outcome = await attempt(() =>
      createRelease(ctx, newsroom, parseWith(createReleaseBody, { ...input, translations: Object.fromEntries(Object.entries(input.translations).filter(([, v]) => v)) })),
    );
    if (outcome.error) return refusedEdit(req, res, newsroom, undefined, form, outcome.error);
    res.redirect(303, `/admin/releases/${encodeURIComponent(outcome.value.id)}?saved=1`);
  }));

  router.get('/releases/:id', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(session, param(req, 'id'));
    await showEditor(req, res, newsroom, release, { saved: req.query.saved === '1' });
  }));

  router.post('/releases/:id', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(session, param(req, 'id'));
    const expectedVersion = Number(form.get('version'));
    const outcome = await attempt(() =>
      updateRelease(ctx, newsroom, release, parseWith(updateReleaseBody, releaseInput(form, newsroom, release)), {
        expectedVersion: Number.isInteger(expectedVersion) ? expectedVersion : -1,
      }),
    );
    if (outcome.error) return refusedEdit(req, res, newsroom, release, form, outcome.error);
    res.redirect(303, `/admin/releases/${encodeURIComponent(release.id)}?saved=1`);
  }));

  const backToRelease = (res: Response, release: Release, anchor = '') =>
    res.redirect(303, `/admin/releases/${encodeURIComponent(release.id)}${anchor}`);

  /** The lifecycle actions check that the page acted on is the release as it is now. */
  function sameVersion(form: URLSearchParams, release: Release): void {
    if (Number(form.get('version')) !== release.version) {
      throw conflict('The release was changed by someone else meanwhile; load it again and retry.', { code: 'changed-meanwhile' });
    }
  }

  router.post('/releases/:id/schedule', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(session, param(req, 'id'));
    const local = text(form, 'publishAt');
    const at = zonedToInstant(local, newsroom.timezone);
    const outcome = await attempt(async () => {
      sameVersion(form, release);
      if (!at) throw new AppError(422, 'unprocessable', 'The publication time is not valid.', [{ path: 'publishAt', message: t(langOf(res), 'admin.schedule.invalid') }]);
      return scheduleRelease(ctx, release, parseWith(scheduleBody, { publishAt: isoTime(at) }).publishAt);
    });
    if (outcome.error) {
      return showEditor(req, res, newsroom, release, {
        scheduleState: new FormState(langOf(res), new Map([['publishAt', local]]), outcome.error.errors),
        problem: problemText(langOf(res), outcome.error),
        conflict: outcome.error.status === 409,
      }, outcome.error.status);
    }
    backToRelease(res, release, '#schedule');
  }));

  const lifecycle = { unschedule: unscheduleRelease, publish: publishRelease, withdraw: withdrawRelease } as const;
  type Action = keyof typeof lifecycle;

  for (const action of Object.keys(lifecycle) as Action[]) {
    if (action !== 'unschedule') {
      // The confirmation step, a page of its own so that it works without scripts.
      router.get(`/releases/:id/${action}`, staff(async (req, res, session) => {
        const { release } = await loadRelease(session, param(req, 'id'));
        const lang = langOf(res);
        const tr = release.translations.find((x) => x.lang === lang) ?? release.translations[0];
        await show(req, res, 'confirm', t(lang, `admin.confirm.${action}.title`), {
          question: t(lang, `admin.confirm.${action}.question`, { title: tr?.title ?? '' }),
          button: t(lang, `admin.confirm.${action}.button`),
          action: `/admin/releases/${encodeURIComponent(release.id)}/${action}`,
          cancel: `/admin/releases/${encodeURIComponent(release.id)}`,
          version: release.version,
          danger: action === 'withdraw',
        });
      }));
    }
    router.post(`/releases/:id/${action}`, post(async (req, res, session, form) => {
      const { release, newsroom } = await loadRelease(session, param(req, 'id'));
      const outcome = await attempt(async () => {
        sameVersion(form, release);
        return lifecycle[action](ctx, release);
      });
      if (outcome.error) return showEditor(req, res, newsroom, release, { problem: problemText(langOf(res), outcome.error), conflict: outcome.error.status === 409 }, outcome.error.status);
      backToRelease(res, release, '#schedule');
    }));
  }

  /*
   * Delivery counts while sending, as server-sent events: one `counts` event a second
   * while messages are queued, then the stream ends (after MAX_STREAM_MS at the latest).
   */
  router.get('/releases/:id/deliveries/stream', staff(async (req, res, session) => {
    const { release } = await loadRelease(session, param(req, 'id'));
    res.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let open = true;
    req.on('close', () => {
      open = false;
    });
    const until = Date.now() + MAX_STREAM_MS;
    while (open && Date.now() < until) {
      const counts = await deliveryCounts(ctx, release.id);
      res.write(`event: counts\ndata: ${JSON.stringify(counts)}\n\n`);
      if (counts.queued === 0) break;
      await sleep(STREAM_INTERVAL_MS);
    }
    res.end();
  }));

  /*
   * Previews: the page and the email exactly as the public site and the delivery render them.
   * The page links the staff app's own file URLs, so that images under embargo show.
   */

  router.get('/releases/:id/preview/:lang', staff(async (req, res, session) => {
    const { release } = await loadRelease(session, param(req, 'id'));
    sendReleasePreview(ctx, res, await renderReleasePreview(ctx, release, param(req, 'lang'), staffFileUrls));
  }));

  router.get('/releases/:id/email/:lang', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(session, param(req, 'id'));
    const lang = param(req, 'lang');
    if (!release.translations.some((x) => x.lang === lang)) throw notFound('Language version');
    const email = await renderEmailPreview(ctx, release, newsroom, lang);
    res.set('Cache-Control', 'no-store');
    if (req.query.part === 'text') {
      res.type('text/plain; charset=utf-8').send(`${email.subject}\n\n${email.text}`);
      return;
    }
    // The email's own inline styles, in a sandbox: no script, no form. Same origin, so that
    // its images, from the staff app's file URLs, go with the session cookie.
    res
      .set('Content-Security-Policy', `sandbox allow-same-origin; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' ${new URL(ctx.config.publicUrl).origin}`)
      .type('html')
      .send(email.html);
  }));

  /* A new contact from the editor: created and named on the release in one transaction. */

  router.post('/releases/:id/contacts', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(session, param(req, 'id'));
    const expectedVersion = Number(form.get('version'));
    const outcome = await attempt(() =>
      addNewContact(ctx, newsroom, release, parseWith(createContactBody, contactInput(form, newsroom)), Number.isInteger(expectedVersion) ? expectedVersion : -1),
    );
    if (outcome.error) {
      const values = new Map([...form].filter(([k]) => k !== CSRF_FIELD && k !== 'version'));
      const conflict = outcome.error.status === 409;
      return showEditor(req, res, newsroom, release, {
        newContactState: new FormState(langOf(res), values, outcome.error.errors, NEW_CONTACT_PREFIX),
        ...(conflict ? { problem: problemText(langOf(res), outcome.error), conflict } : { newContactProblem: problemText(langOf(res), outcome.error) }),
      }, outcome.error.status);
    }
    backToRelease(res, release, '#f-contactIds');
  }));

  /* Attachments */

  router.post('/releases/:id/attachments', staff(async (req, res, session) => {
    const { release, newsroom } = await loadRelease(session, param(req, 'id'));
    checkCsrf(ctx, req, session.id, undefined);
    try {
      await addAttachment(ctx, release, req);
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      const current = (await getReleaseForStaff(ctx, release.id, session.principal)) ?? release;
      return showEditor(req, res, newsroom, current, { uploadProblem: uploadProblemText(langOf(res), error) }, error.status);
    }
    backToRelease(res, release, '#attachments');
  }));

  router.post('/releases/:id/attachments/:attachmentId', post(async (req, res, session, form) => {
    const { release, newsroom } = await loadRelease(session, param(req, 'id'));
    const attachmentId = param(req, 'attachmentId');
    const caption = Object.fromEntries(newsroom.languages.map((code) => [code, form.get(`caption.${code}`) ?? '']));
    const outcome = await attempt(() =>
      updateAttachment(ctx, release, attachmentId, parseWith(updateAttachmentBody, { caption, credit: form.get('credit') ?? '' })),
    );
    if (outcome.error) {
      const values = new Map([...form].filter(([k]) => k !== CSRF_FIELD));
      return showEditor(req, res, newsroom, release, {
        attachmentState: { id: attachmentId, state: new FormState(langOf(res), values, outcome.error.errors, `a-${attachmentId}-`) },
        problem: problemText(langOf(res), outcome.error),
      }, outcome.error.status);
    }
    backToRelease(res, release, '#attachments');
  }));

  router.post('/releases/:id/attachments/:attachmentId/remove', post(async (req, res, session) => {
    const { release } = await loadRelease(session, param(req, 'id'));
    await removeAttachment(ctx, release, param(req, 'attachmentId'));
    backToRelease(res, release, '#attachments');
  }));

  // Files of the session's newsroom, embargoed ones included (the API's file URLs need a bearer token).
  const file = (variant: Variant) =>
    staff(async (req, res, session) => serveAttachmentFile(ctx, res, param(req, 'attachmentId'), session.principal, variant));
  router.get('/files/:attachmentId/web', file('web'));
  router.get('/files/:attachmentId/:filename', file('original'));

  /** The live preview: Markdown rendered by the one sanitiser, as the release will show it. */
  router.post('/preview', post(async (_req, res, session, form) => {
    const markdown = (form.get('markdown') ?? '').slice(0, limits.body);
    pageHeaders(res);
    res.type('html').send(await renderMarkdown(markdown, { newsroom: session.newsroomId ?? '' }));
  }));

  /* Contacts */

  async function showContacts(req: Request, res: Response, newsroom: Newsroom, editing?: { id: string; state: FormState; problem: string }, status = 200) {
    const lang = langOf(res);
    const contacts = await listContacts(ctx.db, newsroom.id);
    const formOf = (id: string, contact?: Contact) => ({
      id,
      ...contactForm(newsroom, lang, editing?.id === id ? editing.state : new FormState(lang, new Map(), [], `c-${id}-`), contact),
      problem: editing?.id === id ? editing.problem : undefined,
    });
    await show(req, res, 'contacts', t(lang, 'admin.contacts.title'), {
      contacts: contacts.map((c) => ({ ...formOf(c.id, c), displayName: c.name })),
      newContact: formOf('new'),
    }, status);
  }

  const contactInput = (form: URLSearchParams, newsroom: Newsroom) => ({
    name: text(form, 'name'),
    title: Object.fromEntries(newsroom.languages.map((code) => [code, text(form, `title.${code}`)])),
    phone: orNull(text(form, 'phone')),
    email: orNull(text(form, 'email')),
  });

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

  subscriberPages(ctx, router, { show, staff, post, workingNewsroom });

  /* Newsroom settings */

  async function showSettings(req: Request, res: Response, newsroom: Newsroom, state: FormState, extra: Record<string, unknown> = {}, status = 200) {
    const lang = langOf(res);
    const names = ['languages', 'timezone', 'website', 'social', ...newsroom.languages.flatMap((code) => [`name.${code}`, `boilerplate.${code}`])];
    await show(req, res, 'settings', t(lang, 'admin.settings.title'), {
      slug: newsroom.slug,
      languagesField: state.field('languages', newsroom.languages.join(', ')),
      timezoneField: state.field('timezone', newsroom.timezone),
      websiteField: state.field('website', newsroom.website ?? ''),
      socialField: state.field('social', Object.entries(newsroom.social).map(([k, v]) => `${k} = ${v}`).join('\n')),
      texts: newsroom.languages.map((code) => ({
        code,
        name: languageName(code, lang),
        nameField: state.field(`name.${code}`, newsroom.name[code]),
        boilerplateField: state.field(`boilerplate.${code}`, newsroom.boilerplate[code]),
      })),
      summary: state.summary(names),
      // On the host the staff app is reached at (its CSP takes images from there only).
      logoUrl: newsroom.logo ? newsroomLogoUrl('', newsroom.slug, newsroom.logo.sha256) : undefined,
      logoAction: `/admin/settings/logo?${CSRF_FIELD}=${encodeURIComponent(csrfToken(ctx, (res.locals.session as Session).id))}`,
      ...extra,
    }, status);
  }

  router.get('/settings', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (newsroom) await showSettings(req, res, newsroom, new FormState(langOf(res)), { saved: req.query.saved === '1' });
  }));

  router.post('/settings', post(async (req, res, session, form) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const texts = (field: string) => Object.fromEntries(newsroom.languages.flatMap((code) => (form.has(`${field}.${code}`) ? [[code, text(form, `${field}.${code}`)]] : [])));
    const outcome = await attempt(() =>
      updateNewsroom(
        ctx,
        newsroom,
        parseWith(updateNewsroomBody, {
          languages: list(text(form, 'languages')),
          name: Object.fromEntries(Object.entries(texts('name')).filter(([, v]) => v !== '')),
          boilerplate: texts('boilerplate'),
          timezone: text(form, 'timezone'),
          website: orNull(text(form, 'website')),
          social: parseSocial(form.get('social') ?? ''),
        }),
      ),
    );
    if (outcome.error) {
      const values = new Map([...form].filter(([k]) => k !== CSRF_FIELD));
      return showSettings(req, res, newsroom, new FormState(langOf(res), values, outcome.error.errors), { problem: problemText(langOf(res), outcome.error) }, outcome.error.status);
    }
    res.redirect(303, '/admin/settings?saved=1');
  }));

  // Multipart, so the CSRF token comes in the action's query, as for attachments.
  router.post('/settings/logo', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    checkCsrf(ctx, req, session.id, undefined);
    try {
      await withUpload(ctx.files, req, LOGO_MAX_BYTES, (form) => setLogo(ctx, newsroom, form));
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      return showSettings(req, res, newsroom, new FormState(langOf(res)), { logoProblem: uploadProblemText(langOf(res), error) }, error.status);
    }
    res.redirect(303, '/admin/settings?saved=1#logo');
  }));

  router.post('/settings/logo/remove', post(async (_req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    await removeLogo(ctx, newsroom);
    res.redirect(303, '/admin/settings?saved=1#logo');
  }));

  /** Errors as pages (the API's routes answer problem+json; these are people). */
  const errorPage: ErrorRequestHandler = async (err, req, res, _next) => {
    const status = err instanceof AppError ? err.status : Number(err?.status ?? err?.statusCode);
    const known = err instanceof AppError || (status >= 400 && status < 500);
    if (!known) (req.log ?? ctx.logger).error({ err }, 'unhandled error');
    if (res.headersSent) return void res.destroy();
    const lang = (res.locals.lang as Lang | undefined) ?? 'en';
    try {
      await show(req, res, 'error', t(lang, known ? 'admin.error.title' : 'admin.error.internal'), {
        detail: known ? problemText(lang, err) : '',
        signedOutOnly: !res.locals.session,
      }, known ? status : 500);
    } catch (renderError) {
      (req.log ?? ctx.logger).error({ err: renderError }, 'error page failed');
      res.status(500).end();
    }
  };
  router.use(errorPage);
  return router;
}
