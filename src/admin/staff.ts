import type { Request, Response } from 'express';
import { authorizeNewsroom } from '../auth/authorize.js';
import type { AppContext } from '../context.js';
import { forbidden } from '../lib/errors.js';
import { interfaceLanguages, t } from '../lib/i18n.js';
import { templateBeside } from '../lib/templates.js';
import { findNewsroomById, type Newsroom } from '../newsrooms/repository.js';
import { CSRF_FIELD, checkCsrf, csrfToken } from './csrf.js';
import { readForm } from './forms.js';
import type { Session } from './session.js';
import { langOf, languageName, newsroomName, render, type View } from './views.js';

/*
 * What every page of the staff app builds on: the layout's data, the guards (signed-in
 * staff, CSRF-checked posts, the admin), and the newsroom the session works in. Each
 * page (a folder beside this file) takes these and adds its routes to the router.
 */

type Handler = (req: Request, res: Response, session: Session) => Promise<void>;
type FormHandler = (req: Request, res: Response, session: Session, form: URLSearchParams) => Promise<void>;

/** The confirmation step of a destructive action, a page of its own so that it works without scripts. */
export const confirmView: View = templateBeside(import.meta.url, 'confirm.hbs');
const signedOutView: View = templateBeside(import.meta.url, 'signed-out.hbs');

/** A path parameter of the route. */
export const param = (req: Request, name: string) => String(req.params[name]);

export interface StaffPages {
  ctx: AppContext;
  /** Renders `view` in the layout, with what every page needs. */
  show(req: Request, res: Response, view: View, title: string, data: Record<string, unknown>, status?: number): Promise<void>;
  /** Signed-in staff only. */
  staff(handler: Handler): (req: Request, res: Response) => Promise<void>;
  /** A urlencoded form post of signed-in staff, its CSRF token checked. */
  post(handler: FormHandler): (req: Request, res: Response) => Promise<void>;
  /** The service admin only (throws 403 otherwise). */
  adminOnly(session: Session): void;
  /** The newsroom the session works in (undefined: the admin was sent to pick one). */
  workingNewsroom(res: Response, session: Session): Promise<Newsroom | undefined>;
}

export function staffPages(ctx: AppContext): StaffPages {
  /** What every page's layout needs, with the page's own data. */
  async function show(req: Request, res: Response, view: View, title: string, data: Record<string, unknown>, status = 200) {
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
        currentNewsroom: newsroom && { slug: newsroom.slug, name: newsroomName(newsroom, lang) },
        languageLinks: interfaceLanguages.map((code) => ({
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
      await show(req, res, signedOutView, t(langOf(res), 'admin.signedOut.title'), {}, 401);
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

  return { ctx, show, staff, post, adminOnly, workingNewsroom };
}
