import { newsroomCalendarUrl, newsroomLogoUrl, newsroomNinjsUrl, newsroomPageUrl, newsroomRssUrl } from '../site/urls.js';
import type { Newsroom } from './repository.js';

export function presentNewsroom(newsroom: Newsroom, base: string) {
  const perLanguage = (url: typeof newsroomPageUrl) =>
    Object.fromEntries(newsroom.languages.map((lang) => [lang, url(base, newsroom.slug, lang)]));
  return {
    id: newsroom.id,
    slug: newsroom.slug,
    languages: newsroom.languages,
    name: newsroom.name,
    boilerplate: newsroom.boilerplate,
    timezone: newsroom.timezone,
    website: newsroom.website,
    social: newsroom.social,
    brandColor: newsroom.brandColor,
    logoUrl: newsroom.logo ? newsroomLogoUrl(base, newsroom.slug, newsroom.logo.sha256) : null,
    links: {
      web: perLanguage(newsroomPageUrl),
      rss: perLanguage(newsroomRssUrl),
      ninjs: perLanguage(newsroomNinjsUrl),
      calendar: perLanguage(newsroomCalendarUrl),
    },
    createdAt: newsroom.createdAt,
    updatedAt: newsroom.updatedAt,
  };
}
