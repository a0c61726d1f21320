import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { formatDateTime, formatSize, formatTime, interfaceLanguages, keysOf, readLocales, t } from '../src/lib/i18n.js';

/*
 * The interface strings, one file per language in locales/: every language has every
 * string, with the same placeholders, and a language is added by adding its file.
 */

const placeholders = (text: string) => [...new Set(text.match(/\{\w+\}/g) ?? [])].sort();
const dateParts = ['{day}', '{hour}', '{minute}', '{month}', '{monthName}', '{second}', '{year}'];

describe('the catalogue', () => {
  const english = keysOf('en');

  it('has the languages of locales/, English last', () => {
    expect(interfaceLanguages).toEqual(['fi', 'sv', 'en']);
  });

  it('has every string in every language, and none that English lacks', () => {
    for (const lang of interfaceLanguages) {
      expect(english.filter((key) => !keysOf(lang).includes(key))).toEqual([]);
      expect(keysOf(lang).filter((key) => !english.includes(key))).toEqual([]);
    }
  });

  it('keeps the placeholders of each string in every language; date formats use only the date parts', () => {
    const wrong = interfaceLanguages.flatMap((lang) =>
      english.filter((key) => {
        const used = placeholders(t(lang, key));
        const dateFormat = key.startsWith('format.') && !key.startsWith('format.size.');
        return dateFormat ? used.some((p) => !dateParts.includes(p)) : used.join() !== placeholders(t('en', key)).join();
      }).map((key) => `${lang} ${key}`),
    );
    expect(wrong).toEqual([]);
  });

  it('writes dates the way each language does', () => {
    const at = '2025-09-29T14:48:00Z';
    expect(interfaceLanguages.map((lang) => formatDateTime(lang, at, 'Europe/Helsinki'))).toEqual([
      '29.9.2025 klo 17.48',
      '29.9.2025 kl. 17.48',
      '29 September 2025 at 17:48',
    ]);
    expect(interfaceLanguages.map((lang) => formatTime(lang, '2025-09-29T06:08:09Z', 'Europe/Helsinki', true))).toEqual(['09.08.09', '09.08.09', '09:08:09']);
  });

  it('writes sizes the way each language abbreviates them, with one formatter', () => {
    const sizes = [0, 1023, 9933, 1024 * 1024, 52 * 1024 * 1024, 1.5 * 1024 ** 3];
    expect(interfaceLanguages.map((lang) => sizes.map((bytes) => formatSize(lang, bytes)))).toEqual([
      ['0 t', '1 023 t', '9,7 kt', '1 Mt', '52 Mt', '1,5 Gt'],
      ['0 B', '1 023 B', '9,7 kB', '1 MB', '52 MB', '1,5 GB'],
      ['0 B', '1,023 B', '9.7 KB', '1 MB', '52 MB', '1.5 GB'],
    ].map((row) => row.map((text) => text.replace(/ /g, '\u00a0'))));
    // Rounding does not give "1024 KB".
    expect(formatSize('en', 1024 * 1024 - 1)).toBe('1\u00a0MB');
  });
});

describe('a language', () => {
  it('is added by adding its file: no code lists the languages', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'locales-'));
    try {
      writeFileSync(path.join(dir, 'en.json'), JSON.stringify({ site: { published: 'Published' } }));
      writeFileSync(path.join(dir, 'de.json'), JSON.stringify({ site: { published: 'Veröffentlicht' } }));
      const { languages, catalogue } = readLocales(dir);
      expect(languages).toEqual(['de', 'en']);
      expect(catalogue.de).toEqual({ 'site.published': 'Veröffentlicht' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('needs English beside it, the language every other falls back to', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'locales-'));
    try {
      writeFileSync(path.join(dir, 'fi.json'), JSON.stringify({ site: { published: 'Julkaistu' } }));
      expect(() => readLocales(dir)).toThrow(/en\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
