import type { Request } from 'express';
import { readForm as readFormBody } from '../lib/forms.js';

export { isFormPost } from '../lib/forms.js';

/** A form of these pages is a few hundred bytes. */
const FORM_LIMIT_BYTES = 16 * 1024;

export const readForm = (req: Request, options: { anyType?: boolean } = {}) =>
  readFormBody(req, { limit: FORM_LIMIT_BYTES, ...options });

/** A comma-separated list field, trimmed, empty items dropped. */
export const listField = (value: string | null) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
