import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/*
 * IPTC's published ninjs 2.2 JSON Schema (tests/fixtures/ninjs, with its source), compiled
 * with Ajv for the draft it declares (2020-12) and ajv-formats, as IPTC's own tests do.
 */

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'ninjs');
const load = (file: string) => JSON.parse(readFileSync(path.join(fixtures, file), 'utf8')) as Record<string, unknown>;

const ajv = new Ajv2020.default({ allErrors: true, strict: false });
addFormats.default(ajv);
ajv.addSchema(load('GeoJSON-schema.json'));
export const ninjsSchema = load('ninjs-schema_2.2.json');
const validate = ajv.compile(ninjsSchema);

/** The schema's complaints about `document` (none when it is a valid ninjs 2.2 news item). */
export function ninjsErrors(document: unknown): string[] {
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
