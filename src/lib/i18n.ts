import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './config.js';

/*
 * The interface strings: one JSON file per language in locales/ (`fi.json`), nested by
 * section (`common`, `site`, `subscriptions`, `email`, `admin`) in the form translation
 * tools read (i18next JSON v4, Weblate's "JSON nested structure"). A key is its path,
 * `site.published`; `{name}` in a string is replaced by the variable of that name.
 * Adding a language is adding its file. A page or an email is written wholly in one
 * language: text in a language without a file falls back to English, never to a mix.
 */

type Strings = Record<string, string>;
interface Tree {
  [key: string]: string | Tree;
}

function flatten(tree: Tree, prefix: string, into: Strings): Strings {
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') into[prefix + key] = value;
    else flatten(value, `${prefix}${key}.`, into);
  }
  return into;
}

/** The catalogues in `dir`, one per `<language>.json`, and the languages: English (the fallback) last. */
export function readLocales(dir: string): { languages: string[]; catalogue: Record<string, Strings> } {
  const catalogue: Record<string, Strings> = Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => [file.slice(0, -'.json'.length), flatten(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Tree, '', {})]),
  );
  if (!catalogue.en) throw new Error(`i18n: ${dir} has no en.json, the language every other falls back to`);
  const languages = [...Object.keys(catalogue).filter((lang) => lang !== 'en').sort(), 'en'];
  return { languages, catalogue };
}

const { languages, catalogue } = readLocales(path.join(projectRoot, 'locales'));

/** The languages of the interface: those with a file in locales/. */
export const interfaceLanguages: readonly string[] = languages;
/** A language of interfaceLanguages. */
export type InterfaceLanguage = string;

/** The interface language for content in `lang`: itself when the catalogue has it, else English. */
export function interfaceLanguage(lang: string): InterfaceLanguage {
  return Object.hasOwn(catalogue, lang) ? lang : 'en';
}

/** The string `key` in `lang` (English when that language lacks it). Throws on an unknown key: a typo must not ship. */
export function t(lang: string, key: string, vars: Record<string, string | number> = {}): string {
  const text = catalogue[interfaceLanguage(lang)]![key] ?? catalogue.en![key];
  if (text === undefined) throw new Error(`i18n: no string "${key}"`);
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** Whether the catalogue has `key` (for texts keyed by a code that may be new). */
export function hasString(key: string): boolean {
  return catalogue.en![key] !== undefined;
}

/** Every key of the catalogue in one language, for tests that check completeness. */
export function keysOf(lang: InterfaceLanguage): string[] {
  return Object.keys(catalogue[lang] ?? {});
}

/**
 * A date and time in the newsroom's time zone, the way the language writes it (its
 * `format.dateTime`): fi `29.9.2025 klo 17.48`, sv `29.9.2025 kl. 17.48`, en `29 September
 * 2025 at 17:48`.
 */
export function formatDateTime(lang: string, iso: string, timeZone: string): string {
  return t(lang, 'format.dateTime', dateParts(interfaceLanguage(lang), iso, timeZone));
}

/** A date alone in the newsroom's time zone (`format.date`): fi/sv `29.9.2025`, en `29 September 2025`. */
export function formatDate(lang: string, iso: string, timeZone: string): string {
  return t(lang, 'format.date', dateParts(interfaceLanguage(lang), iso, timeZone));
}

/** A time of day alone in the newsroom's time zone (`format.time`, with seconds `format.timeSeconds`): fi `17.48`, en `17:48`. */
export function formatTime(lang: string, iso: string, timeZone: string, withSeconds = false): string {
  return t(lang, withSeconds ? 'format.timeSeconds' : 'format.time', dateParts(interfaceLanguage(lang), iso, timeZone));
}

const formatOptions = {
  numeric: { year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' },
  monthName: { month: 'long' },
} satisfies Record<string, Intl.DateTimeFormatOptions>;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Formatters are costly to make and pages format many dates: each is made once. */
function formatter(locale: string, timeZone: string, kind: keyof typeof formatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${timeZone} ${kind}`;
  let format = formatters.get(key);
  if (!format) formatters.set(key, (format = new Intl.DateTimeFormat(locale, { ...formatOptions[kind], timeZone })));
  return format;
}

/** The parts the date formats may use: day, month, monthName (in the language), year, hour, minute, second. */
function dateParts(ui: string, iso: string, timeZone: string): Record<string, string | number> {
  const date = new Date(iso);
  const parts = Object.fromEntries(formatter('en-GB', timeZone, 'numeric').formatToParts(date).map((p) => [p.type, p.value]));
  return {
    day: Number(parts.day),
    month: Number(parts.month),
    monthName: formatter(ui, timeZone, 'monthName').format(date),
    year: parts.year!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

const sizeUnits = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
const numberFormats = new Map<string, Intl.NumberFormat>();

/**
 * A file or field size the way the language abbreviates it (`format.size.*`): fi `9,7 kt`,
 * sv `9,7 kB`, en `9.7 KB`. Binary multiples (1 KB = 1024 bytes), as the limits are set
 * (`UPLOAD_MAX_MB`); one decimal below 100, none above.
 */
export function formatSize(lang: string, bytes: number): string {
  const ui = interfaceLanguage(lang);
  let unit = 0;
  let value = Math.max(0, bytes);
  while (unit < sizeUnits.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const key = `${ui} ${digits}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(ui, { maximumFractionDigits: digits })));
  return t(ui, `format.size.${sizeUnits[unit]}`, { number: format.format(value) });
}
