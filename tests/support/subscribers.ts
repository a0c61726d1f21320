import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../../src/lib/db/database.js';

/*
 * Subscribers written straight into the database, as the subscriptions component leaves
 * them once confirmed (its API is another component's; delivery only reads the table).
 */

export interface SubscriberSpec {
  email?: string;
  languages?: string[];
  keywords?: string[];
  status?: 'pending' | 'confirmed' | 'unsubscribed';
}

export interface SubscriberFixture {
  id: string;
  email: string;
}

export async function insertSubscribers(db: Db, newsroomId: string, specs: SubscriberSpec[]): Promise<SubscriberFixture[]> {
  const now = new Date().toISOString();
  const rows = specs.map((s) => {
    const email = s.email ?? `reader-${randomBytes(5).toString('hex')}@example.net`;
    return {
      id: randomUUID(),
      newsroom_id: newsroomId,
      email,
      email_key: email.toLowerCase(),
      languages: JSON.stringify(s.languages ?? ['fi']),
      keywords: JSON.stringify(s.keywords ?? []),
      status: s.status ?? 'confirmed',
      consent_at: now,
      consent_ip: null,
      consent_user_agent: null,
      consent_text: 'test',
      consent_source: 'test',
      created_at: now,
      updated_at: now,
      confirmed_at: s.status === 'pending' ? null : now,
      unsubscribed_at: null,
    };
  });
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await db.insertInto('subscribers').values(chunk).execute();
    const keywords = chunk.flatMap((row, j) =>
      [...new Set((specs[i + j]!.keywords ?? []).map((k) => k.toLowerCase()))].map((keyword_key) => ({ subscriber_id: row.id, keyword_key })),
    );
    if (keywords.length) await db.insertInto('subscriber_keywords').values(keywords).execute();
  }
  return rows.map((r) => ({ id: r.id, email: r.email }));
}

/** The newsroom's id, for writing its subscribers. */
export async function newsroomId(db: Db, slug: string): Promise<string> {
  return (await db.selectFrom('newsrooms').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()).id;
}
