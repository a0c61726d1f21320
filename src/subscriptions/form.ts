import type { Request } from 'express';
import { PUBLIC_BODY_LIMIT } from '../lib/bodies.js';
import { readForm as readFormBody } from '../lib/forms.js';

export { isFormPost } from '../lib/forms.js';

/** A form of these pages is a few hundred bytes; they are open to anyone. */
export const readForm = (req: Request, options: { anyType?: boolean } = {}) =>
  readFormBody(req, { limit: PUBLIC_BODY_LIMIT, ...options });

/** A comma-separated list field, trimmed, empty items dropped. */
export const listField = (value: string | null) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
