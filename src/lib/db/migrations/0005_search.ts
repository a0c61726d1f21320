import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Full-text search over releases: one row per release and language in `release_search`
 * (title, lead, body as plain text, keywords), written by the releases repository in the
 * same transaction as the content. Each database indexes it its own way: SQLite with an
 * FTS5 table kept in step by triggers, PostgreSQL with a generated tsvector in the
 * language's text search configuration (finnish, swedish, english; simple otherwise).
 * Rows of existing releases are filled from their stored texts.
 */
export function search(dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      let table = db.schema
        .createTable('release_search')
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('lead', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('keywords', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('release_search_pk', ['release_id', 'lang']);
      if (dialect === 'postgres') {
        const config = sql.raw(
          `(case lang when 'fi' then 'finnish'::regconfig when 'sv' then 'swedish'::regconfig ` +
            `when 'en' then 'english'::regconfig else 'simple'::regconfig end)`,
        );
        table = table.addColumn('document', sql`tsvector`, (c) =>
          c.generatedAlwaysAs(
            sql`setweight(to_tsvector(${config}, title), 'A') || setweight(to_tsvector(${config}, keywords), 'A')
              || setweight(to_tsvector(${config}, lead), 'B') || setweight(to_tsvector(${config}, body), 'C')`,
          ).stored(),
        );
      }
      await table.execute();

      if (dialect === 'postgres') {
        await sql`create index release_search_document on release_search using gin (document)`.execute(db);
      } else {
        // External-content FTS5: the text lives once, in release_search.
        await sql`create virtual table release_search_fts using fts5(
          title, lead, body, keywords, content='release_search', content_rowid='rowid',
          tokenize='unicode61 remove_diacritics 2')`.execute(db);
        await sql`create trigger release_search_ai after insert on release_search begin
          insert into release_search_fts(rowid, title, lead, body, keywords)
            values (new.rowid, new.title, new.lead, new.body, new.keywords);
        end`.execute(db);
        await sql`create trigger release_search_ad after delete on release_search begin
          insert into release_search_fts(release_search_fts, rowid, title, lead, body, keywords)
            values ('delete', old.rowid, old.title, old.lead, old.body, old.keywords);
        end`.execute(db);
        await sql`create trigger release_search_au after update on release_search begin
          insert into release_search_fts(release_search_fts, rowid, title, lead, body, keywords)
            values ('delete', old.rowid, old.title, old.lead, old.body, old.keywords);
          insert into release_search_fts(rowid, title, lead, body, keywords)
            values (new.rowid, new.title, new.lead, new.body, new.keywords);
        end`.execute(db);
      }

      // Existing releases: their Markdown stands in for the body text (the tokenizers skip
      // its punctuation); the next edit of each writes the plain text.
      const keywords =
        dialect === 'postgres'
          ? sql`coalesce((select string_agg(k.keyword, ' ' order by k.position) from release_keywords k
               where k.release_id = t.release_id and k.lang = t.lang), '')`
          : sql`coalesce((select group_concat(k.keyword, ' ') from release_keywords k
               where k.release_id = t.release_id and k.lang = t.lang), '')`;
      await sql`insert into release_search (release_id, lang, title, lead, body, keywords)
        select t.release_id, t.lang, t.title, t.lead, t.body, ${keywords} from release_translations t`.execute(db);
    },
  };
}
