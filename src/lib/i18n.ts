/*
 * The one catalogue of interface strings, in Finnish, Swedish and English. A page or an
 * email is written wholly in one language: text in any other language falls back to
 * English, never to a mix. Each component keeps its strings in its own section below;
 * keys are `section.name`. `{name}` in a string is replaced by the variable of that name.
 */

export const interfaceLanguages = ['fi', 'sv', 'en'] as const;
export type InterfaceLanguage = (typeof interfaceLanguages)[number];

type Strings = Record<string, string>;
type Section = Record<InterfaceLanguage, Strings>;

/** Shared by every output: release types and the like. */
const common: Section = {
  fi: {
    'type.press-release': 'Tiedote',
    'type.news': 'Uutinen',
    'type.invitation': 'Kutsu',
  },
  sv: {
    'type.press-release': 'Pressmeddelande',
    'type.news': 'Nyhet',
    'type.invitation': 'Inbjudan',
  },
  en: {
    'type.press-release': 'Press release',
    'type.news': 'News',
    'type.invitation': 'Invitation',
  },
};

/** The public site and feeds (site/, feeds/). */
const site: Section = {
  fi: { siteName: 'Uutishuone', skipToContent: 'Siirry sisältöön' },
  sv: { siteName: 'Nyhetsrum', skipToContent: 'Hoppa till innehållet' },
  en: { siteName: 'Newsroom', skipToContent: 'Skip to content' },
};

/** Subscription pages and confirmation emails (subscriptions/). */
const subscriptions: Section = { fi: {}, sv: {}, en: {} };

/** Release emails (delivery/). */
const email: Section = {
  fi: {
    viewInBrowser: 'Näytä selaimessa',
    keywords: 'Asiasanat',
    contacts: 'Lisätietoja',
    attachments: 'Liitteet',
    reason: 'Saat tämän viestin, koska olet tilannut organisaation {newsroom} tiedotteet.',
    preferences: 'Muuta tilausta',
    unsubscribe: 'Peru tilaus',
  },
  sv: {
    viewInBrowser: 'Visa i webbläsaren',
    keywords: 'Nyckelord',
    contacts: 'Mer information',
    attachments: 'Bilagor',
    reason: 'Du får det här meddelandet eftersom du prenumererar på meddelanden från {newsroom}.',
    preferences: 'Ändra prenumerationen',
    unsubscribe: 'Avsluta prenumerationen',
  },
  en: {
    viewInBrowser: 'View in browser',
    keywords: 'Keywords',
    contacts: 'More information',
    attachments: 'Attachments',
    reason: 'You receive this email because you subscribed to releases from {newsroom}.',
    preferences: 'Change your subscription',
    unsubscribe: 'Unsubscribe',
  },
};

/** The staff web app (admin/). */
const admin: Section = { fi: {}, sv: {}, en: {} };

const sections = { common, site, subscriptions, email, admin };

const catalogue = Object.fromEntries(
  interfaceLanguages.map((lang) => [
    lang,
    Object.assign(
      {},
      ...Object.entries(sections).map(([name, section]) =>
        Object.fromEntries(Object.entries(section[lang]).map(([key, text]) => [`${name}.${key}`, text])),
      ),
    ) as Strings,
  ]),
) as Record<InterfaceLanguage, Strings>;

/** The interface language for content in `lang`: itself when the catalogue has it, else English. */
export function interfaceLanguage(lang: string): InterfaceLanguage {
  return (interfaceLanguages as readonly string[]).includes(lang) ? (lang as InterfaceLanguage) : 'en';
}

/** The string `key` in `lang` (English when that language lacks it). Throws on an unknown key: a typo must not ship. */
export function t(lang: string, key: string, vars: Record<string, string | number> = {}): string {
  const text = catalogue[interfaceLanguage(lang)][key] ?? catalogue.en[key];
  if (text === undefined) throw new Error(`i18n: no string "${key}"`);
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** Every key of the catalogue in one language, for tests that check completeness. */
export function keysOf(lang: InterfaceLanguage): string[] {
  return Object.keys(catalogue[lang]);
}

const timeWords: Record<InterfaceLanguage, string> = { fi: 'klo', sv: 'kl.', en: 'at' };

/**
 * A date and time in the newsroom's time zone, the way the language writes it:
 * fi `29.9.2025 klo 17.48`, sv `29.9.2025 kl. 17.48`, en `29 September 2025 at 17:48`.
 */
export function formatDateTime(lang: string, iso: string, timeZone: string): string {
  const ui = interfaceLanguage(lang);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  const day = Number(parts.day);
  const month = Number(parts.month);
  if (ui === 'en') {
    const monthName = new Intl.DateTimeFormat('en-GB', { timeZone, month: 'long' }).format(new Date(iso));
    return `${day} ${monthName} ${parts.year} ${timeWords.en} ${parts.hour}:${parts.minute}`;
  }
  return `${day}.${month}.${parts.year} ${timeWords[ui]} ${parts.hour}.${parts.minute}`;
}

/** A date alone in the newsroom's time zone: fi/sv `29.9.2025`, en `29 September 2025`. */
export function formatDate(lang: string, iso: string, timeZone: string): string {
  return formatDateTime(lang, iso, timeZone).replace(/ (klo|kl\.|at) .*$/, '');
}
