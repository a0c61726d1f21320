import { z } from 'zod';
import { coded } from '../lib/errors.js';
import { email, oneLine, pathKey, perLanguage } from '../lib/schemas.js';
import { slugParams } from '../newsrooms/schemas.js';

const phone = z
  .string()
  .trim()
  .max(40)
  .regex(/^\+?[0-9 ()./-]{3,}$/, coded('phone', 'must be a phone number such as +358 40 123 4567'));

export const createContactBody = z.strictObject({
  name: oneLine.min(1).max(200),
  title: perLanguage(oneLine.max(200)).default({}),
  phone: phone.nullable().default(null),
  email: email.nullable().default(null),
});

export const updateContactBody = z.strictObject({
  name: oneLine.min(1).max(200).optional(),
  title: perLanguage(oneLine.max(200)).optional(),
  phone: phone.nullable().optional(),
  email: email.nullable().optional(),
});

export const contactParams = z.object({ id: pathKey });
export const newsroomContactParams = slugParams.extend({ id: pathKey });

export type CreateContactInput = z.output<typeof createContactBody>;
export type UpdateContactInput = z.output<typeof updateContactBody>;

export const contactResponse = z.object({
  id: z.string(),
  newsroom: z.string(),
  name: z.string(),
  title: z.record(z.string(), z.string()),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
