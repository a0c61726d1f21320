import { forbidden } from '../lib/errors.js';
import type { Principal } from '../lib/routes.js';

/** The admin acts everywhere; a newsroom token only inside its own newsroom. */
export function canActIn(principal: Principal | undefined, newsroomId: string): boolean {
  return principal?.kind === 'admin' || (principal?.kind === 'newsroom' && principal.newsroomId === newsroomId);
}

export function authorizeNewsroom(principal: Principal | undefined, newsroomId: string): void {
  if (!canActIn(principal, newsroomId)) throw forbidden();
}
