import type { Db } from '../lib/db/database.js';
import type { NewsroomRow } from '../lib/db/schema.js';

export interface Newsroom {
  id: string;
  slug: string;
  languages: string[];
  name: Record<string, string>;
  boilerplate: Record<string, string>;
  boilerplateHtml: Record<string, string>;
  timezone: string;
  website: string | null;
  social: Record<string, string>;
  logo: Logo | null;
  /** `#rrggbb`, at least 4.5:1 against white; null: the site's own colour. */
  brandColor: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A newsroom's logo: the blob of its PNG, and its size in pixels. */
export interface Logo {
  sha256: string;
  width: number;
  height: number;
}

async function hydrate(db: Db, rows: NewsroomRow[]): Promise<Newsroom[]> {
  if (rows.length === 0) return [];
  const texts = await db
    .selectFrom('newsroom_translations')
    .selectAll()
    .where(
      'newsroom_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  return rows.map((row) => {
    const own = texts.filter((t) => t.newsroom_id === row.id);
    const languages: string[] = JSON.parse(row.languages);
    const pick = (field: 'name' | 'boilerplate' | 'boilerplate_html') =>
      Object.fromEntries(
        languages.flatMap((lang) => {
          const text = own.find((t) => t.lang === lang);
          return text && text[field] !== '' ? [[lang, text[field]]] : [];
        }),
      );
    return {
      id: row.id,
      slug: row.slug,
      languages,
      name: pick('name'),
      boilerplate: pick('boilerplate'),
      boilerplateHtml: pick('boilerplate_html'),
      timezone: row.timezone,
      website: row.website,
      social: JSON.parse(row.social),
      logo: row.logo_sha256 ? { sha256: row.logo_sha256, width: Number(row.logo_width), height: Number(row.logo_height) } : null,
      brandColor: row.brand_color,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  });
}

export async function findNewsroomBySlug(db: Db, slug: string): Promise<Newsroom | undefined> {
  const row = await db.selectFrom('newsrooms').selectAll().where('slug', '=', slug).executeTakeFirst();
  return row ? (await hydrate(db, [row]))[0] : undefined;
}

export async function findNewsroomById(db: Db, id: string): Promise<Newsroom | undefined> {
  const row = await db.selectFrom('newsrooms').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? (await hydrate(db, [row]))[0] : undefined;
}

export async function listNewsrooms(db: Db): Promise<Newsroom[]> {
  return hydrate(db, await db.selectFrom('newsrooms').selectAll().orderBy('slug').execute());
}

export async function slugTaken(db: Db, slug: string): Promise<boolean> {
  return !!(await db.selectFrom('newsrooms').select('id').where('slug', '=', slug).executeTakeFirst());
}

/** Inserts or replaces the newsroom row and all its per-language texts, in one transaction. */
export async function saveNewsroom(db: Db, newsroom: Newsroom, isNew: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = {
      languages: JSON.stringify(newsroom.languages),
      timezone: newsroom.timezone,
      website: newsroom.website,
      social: JSON.stringify(newsroom.social),
      brand_color: newsroom.brandColor,
      updated_at: newsroom.updatedAt,
    };
    if (isNew) {
      await trx
        .insertInto('newsrooms')
        .values({ ...row, id: newsroom.id, slug: newsroom.slug, created_at: newsroom.createdAt })
        .execute();
    } else {
      await trx.updateTable('newsrooms').set(row).where('id', '=', newsroom.id).execute();
      await trx.deleteFrom('newsroom_translations').where('newsroom_id', '=', newsroom.id).execute();
    }
    const texts = newsroom.languages
      .filter((lang) => newsroom.name[lang] || newsroom.boilerplate[lang])
      .map((lang) => ({
        newsroom_id: newsroom.id,
        lang,
        name: newsroom.name[lang] ?? '',
        boilerplate: newsroom.boilerplate[lang] ?? '',
        boilerplate_html: newsroom.boilerplateHtml[lang] ?? '',
      }));
    if (texts.length) await trx.insertInto('newsroom_translations').values(texts).execute();
  });
}

/**
 * Sets (or with null, removes) the newsroom's logo. A logo set is also kept among the
 * newsroom's logos, whose blobs the clean-up leaves (attachments/blobs.ts).
 */
export async function saveNewsroomLogo(db: Db, newsroomId: string, logo: Logo | null, now: string): Promise<void> {
  await db
    .updateTable('newsrooms')
    .set({ logo_sha256: logo?.sha256 ?? null, logo_width: logo?.width ?? null, logo_height: logo?.height ?? null, updated_at: now })
    .where('id', '=', newsroomId)
    .execute();
  if (logo) {
    await db
      .insertInto('newsroom_logos')
      .values({ newsroom_id: newsroomId, sha256: logo.sha256, created_at: now })
      .onConflict((oc) => oc.columns(['newsroom_id', 'sha256']).doNothing())
      .execute();
  }
}

/** Whether `sha256` is, or was, a logo of the newsroom. */
export async function wasNewsroomLogo(db: Db, newsroomId: string, sha256: string): Promise<boolean> {
  const row = await db.selectFrom('newsroom_logos').select('sha256').where('newsroom_id', '=', newsroomId).where('sha256', '=', sha256).executeTakeFirst();
  return row !== undefined;
}

/** Languages that releases of the newsroom are written in, or have keywords in. */
export async function languagesInUse(db: Db, newsroomId: string): Promise<string[]> {
  const ofReleases = (table: 'release_translations' | 'release_keywords') =>
    db
      .selectFrom(table)
      .innerJoin('releases', 'releases.id', `${table}.release_id`)
      .select(`${table}.lang as lang`)
      .distinct()
      .where('releases.newsroom_id', '=', newsroomId)
      .execute();
  const [translations, keywords] = await Promise.all([ofReleases('release_translations'), ofReleases('release_keywords')]);
  return [...new Set([...translations, ...keywords].map((r) => r.lang))];
}
