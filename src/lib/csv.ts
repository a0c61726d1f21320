import { stringify } from 'csv-stringify/sync';

/*
 * CSV for spreadsheets, the one writer (exports). A field that holds a separator is
 * quoted: the comma, and the semicolon too, on which Excel splits a CSV file in Finnish
 * and Swedish. No cell is run as a formula: a formula start (= + - @, or the tab or
 * carriage return some spreadsheets skip before one) gets an apostrophe before it, at the
 * start of the field and after any separator or line break in it, in case a spreadsheet
 * splits the field there all the same (quotes ignored, or "text to columns").
 */

const FORMULA_START = /(^|[,;\r\n]\s*)(?=[=+\-@\t\r])/g;

/** A field with an apostrophe before each formula start: shown as text, never run. */
export const inertField = (field: string) => field.replace(FORMULA_START, "$1'");

/** Rows as CSV lines (each ending in a newline), to be written one after another. */
export const csvLines = (rows: readonly (readonly string[])[]): string =>
  stringify(rows as string[][], { quoted_match: /;/, cast: { string: inertField } });
