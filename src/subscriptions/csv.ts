import { isUtf8 } from 'node:buffer';
import { CsvError, parse } from 'csv-parse/sync';
import type { InviteRow } from './operations.js';
import { MAX_IMPORT } from './schemas.js';

/*
 * The CSV file staff upload to invite addresses: a header row naming the columns
 * `email`, `languages` and, optionally, `keywords` (any order, any case; other columns,
 * such as those of our own export, are ignored). Languages are separated by spaces or
 * semicolons, keywords by commas or semicolons. A header with semicolons and no comma
 * means a semicolon-separated file, as spreadsheets save CSV in Finnish and Swedish.
 */

/** 10,000 rows of an address, a few languages and keywords fit with room to spare. */
export const INVITE_CSV_MAX_BYTES = 5 * 1024 * 1024;

export type InviteCsvProblem =
  | { problem: 'notCsv' | 'noEmailColumn' | 'empty' | 'tooMany' }
  | { problem: 'malformed'; line: number };

const split = (cell: string | undefined, separators: RegExp) => (cell ?? '').split(separators).map((part) => part.trim()).filter(Boolean);

export function readInviteCsv(bytes: Buffer): { rows: InviteRow[] } | InviteCsvProblem {
  if (!isUtf8(bytes) || bytes.includes(0)) return { problem: 'notCsv' };
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const header = /^[^\r\n]*/.exec(text)![0];
  const delimiter = header.includes(';') && !header.includes(',') ? ';' : ',';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each record comes with where it ends in the file (its typings do not say so).
    records = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as typeof records;
  } catch (error) {
    if (error instanceof CsvError) return { problem: 'malformed', line: Number(error.lines) || 1 };
    throw error;
  }
  const columns = (records[0]?.record ?? []).map((name) => name.toLowerCase());
  const column = (name: string) => columns.indexOf(name);
  if (column('email') < 0) return { problem: 'noEmailColumn' };
  // Rows of empty cells only are what spreadsheets leave below a table.
  const data = records.slice(1).filter(({ record }) => record.some(Boolean));
  if (data.length === 0) return { problem: 'empty' };
  if (data.length > MAX_IMPORT) return { problem: 'tooMany' };
  return {
    rows: data.map(({ record, info }) => ({
      line: info.lines,
      email: record[column('email')] ?? '',
      languages: split(record[column('languages')], /[\s;,]+/).map((lang) => lang.toLowerCase()),
      keywords: split(record[column('keywords')], /[;,]/),
    })),
  };
}
