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
const subscriptions: Section = {
  fi: {
    consentText:
      'Haluan saada organisaation {newsroom} tiedotteet sähköpostiini. Voin perua tilauksen milloin tahansa jokaisen viestin linkistä.',
    'requested.title': 'Tarkista sähköpostisi',
    'requested.body':
      'Jos osoite {email} voi vastaanottaa postia, lähetimme siihen vahvistusviestin. Tilaus alkaa vasta, kun vahvistat sen viestin linkistä.',
    'invalid.title': 'Tilaus ei onnistunut',
    'invalid.body': 'Tarkista sähköpostiosoite ja kielet ja yritä uudelleen.',
    'confirm.title': 'Vahvista tilaus',
    'confirm.body': 'Vahvista, että haluat saada organisaation {newsroom} tiedotteet osoitteeseen {email}.',
    'confirm.button': 'Vahvista tilaus',
    'confirmed.title': 'Tilaus on voimassa',
    'confirmed.body': 'Saat organisaation {newsroom} tiedotteet osoitteeseen {email}.',
    'expired.title': 'Linkki on vanhentunut',
    'expired.body': 'Vahvistuslinkki on jo käytetty tai vanhentunut. Tilaa uudelleen saadaksesi uuden linkin.',
    'unknown.title': 'Linkki ei kelpaa',
    'unknown.body': 'Tätä linkkiä ei tunnisteta. Tarkista, että kopioit sen kokonaan.',
    'preferences.title': 'Tilausasetukset',
    'preferences.intro': 'Organisaation {newsroom} tiedotteet osoitteeseen {email}.',
    'preferences.languages': 'Kielet',
    'preferences.keywords': 'Vain nämä avainsanat (pilkuin eroteltuina; tyhjä = kaikki tiedotteet)',
    'preferences.save': 'Tallenna',
    'preferences.saved': 'Asetukset on tallennettu.',
    'preferences.needLanguage': 'Valitse vähintään yksi kieli.',
    'preferences.invalid': 'Tarkista kielet ja avainsanat (enintään 50, kukin enintään 100 merkkiä).',
    'preferences.unsubscribed': 'Tilauksesi on peruttu. Tilaa uudelleen organisaation sivuilta.',
    'unsubscribe.title': 'Peru tilaus',
    'unsubscribe.body': 'Haluatko lopettaa organisaation {newsroom} tiedotteiden vastaanottamisen osoitteeseen {email}?',
    'unsubscribe.button': 'Peru tilaus',
    'unsubscribed.title': 'Tilaus on peruttu',
    'unsubscribed.body': 'Osoitteeseen {email} ei enää lähetetä organisaation {newsroom} tiedotteita.',
    'email.subject': 'Vahvista tiedotteiden tilaus: {newsroom}',
    'email.greeting': 'Hei,',
    'email.body':
      'joku (toivottavasti sinä) pyysi organisaation {newsroom} tiedotteita osoitteeseen {email}. Vahvista tilaus alla olevasta linkistä.',
    'email.button': 'Vahvista tilaus',
    'email.expires': 'Linkki on voimassa 7 päivää.',
    'email.ignore': 'Jos et tilannut tiedotteita, voit jättää tämän viestin huomiotta: sinulle ei lähetetä mitään.',
  },
  sv: {
    consentText:
      'Jag vill få pressmeddelanden från {newsroom} per e-post. Jag kan avsluta prenumerationen när som helst via länken i varje meddelande.',
    'requested.title': 'Kolla din e-post',
    'requested.body':
      'Om adressen {email} kan ta emot e-post har vi skickat ett bekräftelsemeddelande dit. Prenumerationen börjar först när du bekräftar den via länken i meddelandet.',
    'invalid.title': 'Prenumerationen misslyckades',
    'invalid.body': 'Kontrollera e-postadressen och språken och försök igen.',
    'confirm.title': 'Bekräfta prenumerationen',
    'confirm.body': 'Bekräfta att du vill få pressmeddelanden från {newsroom} till {email}.',
    'confirm.button': 'Bekräfta prenumerationen',
    'confirmed.title': 'Prenumerationen är aktiv',
    'confirmed.body': 'Du får pressmeddelanden från {newsroom} till {email}.',
    'expired.title': 'Länken har gått ut',
    'expired.body': 'Bekräftelselänken har redan använts eller gått ut. Prenumerera igen för att få en ny länk.',
    'unknown.title': 'Länken är ogiltig',
    'unknown.body': 'Länken känns inte igen. Kontrollera att du kopierade hela länken.',
    'preferences.title': 'Inställningar för prenumerationen',
    'preferences.intro': 'Pressmeddelanden från {newsroom} till {email}.',
    'preferences.languages': 'Språk',
    'preferences.keywords': 'Endast dessa nyckelord (åtskilda med kommatecken; tomt = alla meddelanden)',
    'preferences.save': 'Spara',
    'preferences.saved': 'Inställningarna har sparats.',
    'preferences.needLanguage': 'Välj minst ett språk.',
    'preferences.invalid': 'Kontrollera språken och nyckelorden (högst 50, vart och ett högst 100 tecken).',
    'preferences.unsubscribed': 'Din prenumeration är avslutad. Prenumerera igen på organisationens sidor.',
    'unsubscribe.title': 'Avsluta prenumerationen',
    'unsubscribe.body': 'Vill du sluta få pressmeddelanden från {newsroom} till {email}?',
    'unsubscribe.button': 'Avsluta prenumerationen',
    'unsubscribed.title': 'Prenumerationen är avslutad',
    'unsubscribed.body': 'Inga fler pressmeddelanden från {newsroom} skickas till {email}.',
    'email.subject': 'Bekräfta prenumerationen: {newsroom}',
    'email.greeting': 'Hej,',
    'email.body':
      'någon (förhoppningsvis du) bad om pressmeddelanden från {newsroom} till {email}. Bekräfta prenumerationen via länken nedan.',
    'email.button': 'Bekräfta prenumerationen',
    'email.expires': 'Länken gäller i 7 dagar.',
    'email.ignore': 'Om du inte bad om detta kan du strunta i meddelandet: inget mer skickas till dig.',
  },
  en: {
    consentText:
      'I want to receive press releases from {newsroom} by email. I can unsubscribe at any time with the link in every message.',
    'requested.title': 'Check your inbox',
    'requested.body':
      'If the address {email} can receive mail, we have sent a confirmation email to it. The subscription starts only once you confirm it with the link in that email.',
    'invalid.title': 'The subscription did not go through',
    'invalid.body': 'Check the email address and the languages, and try again.',
    'confirm.title': 'Confirm your subscription',
    'confirm.body': 'Confirm that you want to receive press releases from {newsroom} at {email}.',
    'confirm.button': 'Confirm subscription',
    'confirmed.title': 'You are subscribed',
    'confirmed.body': 'You will receive press releases from {newsroom} at {email}.',
    'expired.title': 'This link has expired',
    'expired.body': 'The confirmation link has already been used or has expired. Subscribe again to get a new link.',
    'unknown.title': 'This link is not valid',
    'unknown.body': 'We do not recognise this link. Check that you copied all of it.',
    'preferences.title': 'Subscription preferences',
    'preferences.intro': 'Press releases from {newsroom} to {email}.',
    'preferences.languages': 'Languages',
    'preferences.keywords': 'Only these keywords (comma-separated; empty = every release)',
    'preferences.save': 'Save',
    'preferences.saved': 'Your preferences are saved.',
    'preferences.needLanguage': 'Choose at least one language.',
    'preferences.invalid': 'Check the languages and keywords (at most 50, each at most 100 characters).',
    'preferences.unsubscribed': 'You have unsubscribed. Subscribe again on the newsroom\'s pages.',
    'unsubscribe.title': 'Unsubscribe',
    'unsubscribe.body': 'Do you want to stop receiving press releases from {newsroom} at {email}?',
    'unsubscribe.button': 'Unsubscribe',
    'unsubscribed.title': 'You have unsubscribed',
    'unsubscribed.body': 'No more press releases from {newsroom} will be sent to {email}.',
    'email.subject': 'Confirm your subscription: {newsroom}',
    'email.greeting': 'Hello,',
    'email.body':
      'someone (hopefully you) asked for press releases from {newsroom} at {email}. Confirm the subscription with the link below.',
    'email.button': 'Confirm subscription',
    'email.expires': 'The link is valid for 7 days.',
    'email.ignore': 'If you did not ask for this, ignore this email: nothing more will be sent to you.',
  },
};

/** Release emails (delivery/). */
const email: Section = { fi: {}, sv: {}, en: {} };

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
