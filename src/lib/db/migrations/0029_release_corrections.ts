import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Changes to a release after publication, as events (see CONTEXT.md, "Correction"): one
 * row per edit while public (`correction`, with a public note per language, or `minor`)
 * and one per withdrawal (`withdrawal`, the note being its public reason, if any).
 * `fields` names what an edit changed (JSON array); `revision` is the release's revision
 * after it. `notice_claimed_at`: the re-notification of those who got the release,
 * claimed once (see src/corrections/).
 */
export function releaseCorrections(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'text';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('release_corrections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('fields', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('note', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('notice_claimed_at', time)
        .execute();
      await db.schema.createIndex('release_corrections_release').on('release_corrections').columns(['release_id', 'created_at']).execute();
    },
  };
}
