import type { Request } from 'express';
import { readForm as readFormBody } from '../lib/forms.js';

/** Enough for a release in a dozen languages at the largest body the schemas take. */
export const FORM_MAX_BYTES = 8 * 1024 * 1024;

/** A form of the staff app (see lib/forms.ts). */
export const readForm = (req: Request, limit = FORM_MAX_BYTES) => readFormBody(req, { limit });
