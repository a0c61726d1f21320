import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import { acceptBody, refuseBody } from '../lib/bodies.js';
import { badRequest, payloadTooLarge, unprocessable, unsupportedMediaType } from '../lib/errors.js';
import { digesting } from '../lib/storage/digest.js';
import { limits } from './schemas.js';
import type { FileStore } from './storage.js';

export interface ReceivedFile {
  /** The temp file holding the bytes. */
  path: string;
  filename: string;
  size: number;
  sha256: string;
}

export interface ReceivedForm {
  /** A Map, so that a field named like an Object.prototype member is just a field. */
  fields: Map<string, string>;
  file: ReceivedFile | undefined;
}

const FALLBACK_FILENAME = 'attachment';

/**
 * What a form may hold besides the file's bytes: boundaries, part headers, the
 * preamble and the fields (16 of at most 4 KB). More than this is not an upload.
 */
const FORM_OVERHEAD_BYTES = 128 * 1024;

/**
 * A file name that is safe to show and to put in a URL: base name only, no control or
 * bidi-override characters (which can disguise an extension), at most 200 characters
 * with the extension kept.
 */
export function cleanFilename(given: string | undefined): string {
  const stripped = (given ?? '').normalize('NFC').replace(/[\p{Cc}\p{Cf}]/gu, '');
  const base = (stripped.split(/[/\\]/).pop() ?? '').trim();
  const chars = Array.from(base);
  let name = base;
  if (chars.length > limits.filename) {
    const ext = Array.from(path.extname(base));
    const kept = ext.length <= 16 ? ext : [];
    name = chars.slice(0, limits.filename - kept.length).join('').trimEnd() + kept.join('');
  }
  // "." and ".." would make the file URL point elsewhere; "web" is the URL of the rendition.
  return ['', '.', '..', 'web'].includes(name.toLowerCase()) ? FALLBACK_FILENAME : name;
}

export interface ReceiveOptions {
  tempPath: string;
  maxFileBytes: number;
  /**
   * Called once with the fields sent before the file (at the end, for a form without
   * one); what it throws refuses the upload before a byte of the file is stored, and
   * it may take out the fields it used. The staff app checks its CSRF token here, sent
   * as the form's first field.
   */
  beforeFile?: (fields: Map<string, string>) => void;
}

/**
 * Reads a multipart form, streaming its one file (field `file`) to `tempPath` while
 * hashing and counting it. Fails with 415 when the request is not multipart, 413 when
 * the file passes `maxFileBytes` or the form has too many fields, 400 when it is
 * malformed, 422 when a field breaks a rule. On failure the temp file is removed, and the
 * answer goes out before the rest of the request is read (see lib/bodies.ts): a
 * Content-Length over the limit is refused before any of the body is read.
 */
export async function receiveForm(req: Request, options: ReceiveOptions): Promise<ReceivedForm> {
  if (!req.is('multipart/form-data')) {
    throw unsupportedMediaType('Send the upload as multipart/form-data with the file in the field "file".');
  }
  // The whole request, preamble and fields included, not just the file, is bounded.
  const maxRequestBytes = options.maxFileBytes + FORM_OVERHEAD_BYTES;
  const tooLarge = () => payloadTooLarge(`The upload is larger than the limit of ${options.maxFileBytes} bytes.`);
  acceptBody(req, maxRequestBytes, tooLarge);
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      // Browsers send file names as raw UTF-8, not Latin-1 as busboy assumes.
      defParamCharset: 'utf8',
      limits: {
        files: 1,
        fields: limits.formFields,
        fieldSize: limits.formFieldBytes,
        fileSize: options.maxFileBytes,
      },
    });
  } catch {
    throw badRequest('The multipart/form-data Content-Type has no boundary.');
  }

  const fields = new Map<string, string>();
  const abort = new AbortController();
  let saving: Promise<ReceivedFile> | undefined;
  let checked = false;

  const parsed = new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => {
      abort.abort(error);
      reject(error);
    };
    /** Runs `beforeFile` once; false when it refused the form. */
    const check = () => {
      if (checked || !options.beforeFile) return true;
      checked = true;
      try {
        options.beforeFile(fields);
        return true;
      } catch (error) {
        fail(error);
        return false;
      }
    };
    parser.on('file', (name, stream, info) => {
      if (!check()) {
        stream.resume();
        return;
      }
      if (name !== 'file' || saving) {
        stream.resume();
        fail(badRequest('Send one file, in the field "file".'));
        return;
      }
      stream.on('limit', () =>
        fail(payloadTooLarge(`The file is larger than the limit of ${options.maxFileBytes} bytes.`)),
      );
      saving = save(stream, cleanFilename(info.filename), options.tempPath, abort.signal);
      saving.catch(fail);
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        fail(unprocessable('The form breaks the rules of this endpoint.', [{ path: name, message: 'is far too long', code: 'far_too_long' }]));
      } else if (value.includes('\u0000')) {
        // PostgreSQL cannot store NUL in text. (UTF-8 decoding never yields lone surrogates.)
        fail(unprocessable('The form breaks the rules of this endpoint.', [{ path: name, message: 'must not contain NUL characters', code: 'nul_characters' }]));
      } else if (fields.has(name)) {
        fail(unprocessable('The form breaks the rules of this endpoint.', [{ path: name, message: 'is given twice', code: 'given_twice' }]));
      } else {
        fields.set(name, value);
      }
    });
    parser.on('filesLimit', () => fail(badRequest('Send one file, in the field "file".')));
    parser.on('fieldsLimit', () => fail(payloadTooLarge(`The form has more than ${limits.formFields} fields.`)));
    parser.on('error', (error: Error) => fail(badRequest(`The multipart body is malformed: ${error.message}`)));
    parser.on('close', () => {
      if (check()) resolve();
    });
    // The client went away: nobody is left to read the answer, but the temp file must still go.
    req.on('error', () => fail(badRequest('The upload was cut off.')));
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxRequestBytes) fail(tooLarge());
    });
    req.pipe(parser);
  });

  try {
    await parsed;
    return { fields, file: await saving };
  } catch (error) {
    req.unpipe(parser);
    refuseBody(req);
    await saving?.catch(() => undefined);
    await rm(options.tempPath, { force: true });
    throw error;
  }
}

/**
 * Receives a multipart upload (see receiveForm) into a temp file of `files`, hands it to
 * `use`, and removes the temp file afterwards, whatever happened.
 */
export async function withUpload<T>(
  files: FileStore,
  req: Request,
  maxFileBytes: number,
  use: (form: ReceivedForm) => Promise<T>,
  beforeFile?: ReceiveOptions['beforeFile'],
): Promise<T> {
  const tempPath = await files.tempPath();
  try {
    return await use(await receiveForm(req, { tempPath, maxFileBytes, beforeFile }));
  } finally {
    await rm(tempPath, { force: true });
  }
}

async function save(stream: Readable, filename: string, tempPath: string, signal: AbortSignal): Promise<ReceivedFile> {
  const measure = digesting();
  await pipeline(stream, measure.stream, createWriteStream(tempPath), { signal });
  return { path: tempPath, filename, ...measure.result() };
}
