import type { AppContext } from '../context.js';
import type { RouteDefinition } from '../lib/routes.js';

// Placeholder while the attachments component is written.
export function attachmentRoutes(_ctx: AppContext): RouteDefinition[] {
  return [];
}
export function fileRoutes(_ctx: AppContext): RouteDefinition[] {
  return [];
}
