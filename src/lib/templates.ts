import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { projectRoot } from './config.js';
import { formatDate, formatDateTime, t } from './i18n.js';

/*
 * Handlebars over templates/: one environment for pages and email text, compiled once
 * per process. `{{t "site.key" name=value}}` takes the language from the root's `lang`;
 * `{{datetime iso}}` and `{{date iso}}` also take the root's `timezone` (`{{datetime iso
 * timezone=zone}}` another). Stored HTML
 * (already sanitised by lib/html.ts) is output with `{{{ }}}`; everything else is escaped.
 * Partials are the files under templates/<area>/partials/, named `<area>/<file>`.
 * The staff app keeps its templates beside the code of their pages (templateBeside),
 * its partials in src/admin/partials/ (registerPartials); the build copies them to dist/.
 */

const templatesDir = path.join(projectRoot, 'templates');
const hbs = Handlebars.create();

type Root = { lang?: string; timezone?: string };
const rootOf = (options: Handlebars.HelperOptions): Root => (options.data?.root ?? {}) as Root;

hbs.registerHelper('t', function (key: string, options: Handlebars.HelperOptions) {
  return t(rootOf(options).lang ?? 'en', key, options.hash as Record<string, string>);
});
hbs.registerHelper('datetime', function (iso: string, options: Handlebars.HelperOptions) {
  const root = rootOf(options);
  // `timezone=...` overrides the page's zone, for lists that mix newsrooms.
  const zone = (options.hash as { timezone?: string }).timezone ?? root.timezone ?? 'UTC';
  return iso ? formatDateTime(root.lang ?? 'en', iso, zone) : '';
});
hbs.registerHelper('date', function (iso: string, options: Handlebars.HelperOptions) {
  const root = rootOf(options);
  return iso ? formatDate(root.lang ?? 'en', iso, root.timezone ?? 'UTC') : '';
});
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);

/** Registers every `.hbs` file in `dir` as the partial `<area>/<file>`. */
export function registerPartials(area: string, dir: string): void {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs'))) {
    hbs.registerPartial(`${area}/${file.slice(0, -'.hbs'.length)}`, readFileSync(path.join(dir, file), 'utf8'));
  }
}

for (const area of readdirSync(templatesDir, { withFileTypes: true })) {
  const dir = path.join(templatesDir, area.name, 'partials');
  if (area.isDirectory() && existsSync(dir)) registerPartials(area.name, dir);
}

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** The template in the file `file`, compiled on first use. */
function templateFile<T>(file: string): (data: T) => string {
  let fn = compiled.get(file);
  if (!fn) {
    // preventIndent: a partial on a line of its own must not indent a textarea's text.
    fn = hbs.compile(readFileSync(file, 'utf8'), { strict: false, noEscape: false, preventIndent: true });
    compiled.set(file, fn);
  }
  return fn as (data: T) => string;
}

/** The template `templates/<name>` (e.g. `site/release.hbs`), compiled on first use. */
export function template<T = unknown>(name: string): (data: T) => string {
  return templateFile(path.join(templatesDir, name));
}

/** The template `file` beside the module at `moduleUrl` (its `import.meta.url`), compiled on first use. */
export function templateBeside<T = unknown>(moduleUrl: string, file: string): (data: T) => string {
  const at = fileURLToPath(new URL(file, moduleUrl));
  return (data) => templateFile<T>(at)(data);
}

/** Registers a helper for every template; components call it once at import. */
export function registerHelper(name: string, helper: Handlebars.HelperDelegate): void {
  hbs.registerHelper(name, helper);
}
