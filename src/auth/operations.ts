import type { AppContext } from '../context.js';
import { isoTime } from '../lib/time.js';
import type { Newsroom } from '../newsrooms/repository.js';
import { insertToken } from './repository.js';
import { mintToken } from './tokens.js';

/** Mints a newsroom token; its secret is in this answer only (the database keeps a hash). */
export async function createToken(ctx: AppContext, newsroom: Newsroom, name: string) {
  const minted = mintToken();
  const createdAt = isoTime(ctx.clock.now());
  await insertToken(ctx.db, { id: minted.id, newsroomId: newsroom.id, name, secretHash: minted.secretHash, createdAt });
  return { id: minted.id, token: minted.token, name, createdAt };
}
