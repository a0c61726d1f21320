import { randomUUID } from 'node:crypto';
import { authorizeNewsroom } from '../auth/authorize.js';
import type { AppContext } from '../context.js';
import { conflict, type FieldError, notFound, unprocessable } from '../lib/errors.js';
import { renderMarkdown } from '../lib/html.js';
import type { Principal } from '../lib/routes.js';
import { foreignLanguages } from '../lib/schemas.js';
import { isoTime } from '../lib/time.js';
import {
  findNewsroomBySlug,
  languagesInUse,
  type Newsroom,
  saveNewsroom,
  slugTaken,
} from './repository.js';
import type { CreateNewsroomInput, UpdateNewsroomInput } from './schemas.js';

export async function getNewsroom(ctx: AppContext, slug: string): Promise<Newsroom> {
  const newsroom = await findNewsroomBySlug(ctx.db, slug);
  if (!newsroom) throw notFound(`Newsroom "${slug}"`);
  return newsroom;
}

/** The newsroom, if the principal may act in it: 404 if unknown, 403 if another's. */
export async function getNewsroomForStaff(ctx: AppContext, slug: string, principal: Principal | undefined): Promise<Newsroom> {
  const newsroom = await getNewsroom(ctx, slug);
  authorizeNewsroom(principal, newsroom.id);
  return newsroom;
}

function checkTexts(languages: string[], name: Record<string, string>, boilerplate: Record<string, string>) {
  const errors: FieldError[] = [
    ...foreignLanguages('name', name, languages),
    ...foreignLanguages('boilerplate', boilerplate, languages),
  ];
  const defaultLanguage = languages[0]!;
  if (!name[defaultLanguage]) {
    errors.push({ path: `name.${defaultLanguage}`, message: 'the name is required in the default language', code: 'default_language_name' });
  }
  if (errors.length) throw unprocessable('The newsroom texts do not match its languages.', errors);
}

const renderAll = async (texts: Record<string, string>, newsroomId: string) =>
  Object.fromEntries(
    await Promise.all(
      Object.entries(texts).map(async ([lang, text]) => [lang, await renderMarkdown(text, { field: `boilerplate.${lang}`, newsroom: newsroomId })]),
    ),
  );

const slugConflict = (slug: string) => conflict(`The slug "${slug}" is taken.`, { code: 'slug-taken', params: { slug } });

export async function createNewsroom(ctx: AppContext, input: CreateNewsroomInput): Promise<Newsroom> {
  checkTexts(input.languages, input.name, input.boilerplate);
  if (await slugTaken(ctx.db, input.slug)) throw slugConflict(input.slug);
  const now = isoTime(ctx.clock.now());
  const id = randomUUID();
  const newsroom: Newsroom = {
    id,
    slug: input.slug,
    languages: input.languages,
    name: input.name,
    boilerplate: input.boilerplate,
    boilerplateHtml: await renderAll(input.boilerplate, id),
    timezone: input.timezone,
    website: input.website,
    social: input.social as Record<string, string>,
    logo: null,
    brandColor: input.brandColor,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await saveNewsroom(ctx.db, newsroom, true);
  } catch (error) {
    // Two requests racing for one slug: the unique index decides.
    if (await slugTaken(ctx.db, input.slug)) throw slugConflict(input.slug);
    throw error;
  }
  return newsroom;
}

export async function updateNewsroom(ctx: AppContext, newsroom: Newsroom, input: UpdateNewsroomInput): Promise<Newsroom> {
  const languages = input.languages ?? newsroom.languages;
  // A language dropped from the list takes its texts with it, unless releases are written in it.
  const dropped = newsroom.languages.filter((lang) => !languages.includes(lang));
  const stillUsed = (await languagesInUse(ctx.db, newsroom.id)).filter((lang) => dropped.includes(lang));
  if (stillUsed.length) {
    throw unprocessable(
      'A language that releases use cannot be removed.',
      stillUsed.map((lang): FieldError => ({ path: 'languages', message: `releases use "${lang}"`, code: 'language_in_use', params: { lang } })),
    );
  }
  const kept = (texts: Record<string, string>, given: Record<string, string> = {}) =>
    Object.fromEntries(
      Object.entries({ ...texts, ...given }).filter(
        ([lang, text]) => (languages.includes(lang) || lang in given) && text !== '',
      ),
    );
  const name = kept(newsroom.name, input.name);
  const boilerplate = kept(newsroom.boilerplate, input.boilerplate);
  checkTexts(languages, name, boilerplate);
  const updated: Newsroom = {
    ...newsroom,
    languages,
    name,
    boilerplate,
    boilerplateHtml: await renderAll(boilerplate, newsroom.id),
    timezone: input.timezone ?? newsroom.timezone,
    website: input.website === undefined ? newsroom.website : input.website,
    social: (input.social as Record<string, string> | undefined) ?? newsroom.social,
    brandColor: input.brandColor === undefined ? newsroom.brandColor : input.brandColor,
    updatedAt: isoTime(ctx.clock.now()),
  };
  await saveNewsroom(ctx.db, updated, false);
  return updated;
}
