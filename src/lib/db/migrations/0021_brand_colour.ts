import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/** A newsroom's brand colour (`#rrggbb`, dark enough for white text), or null for the site's own. */
export function brandColour(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('newsrooms').addColumn('brand_color', 'text').execute();
    },
  };
}
