import type http from 'node:http';
import supertest from 'supertest';
import type { TestApp } from './app.js';

/**
 * A browser's view of the staff app through supertest: keeps the cookies it is given
 * (Secure ones too, since tests speak plain HTTP to the app) and the last CSRF token seen.
 */
export class StaffClient {
  cookies = new Map<string, string>();
  csrf = '';

  /** Not the app's shared agent: that one keeps cookies of its own. */
  private readonly http: supertest.SuperTest<supertest.Test>;

  /**
   * `target`: a test app, or the URL of a running service. `headers` go with every
   * request: e.g. the X-Forwarded-For of a client behind a proxy. `agent` connects (e.g.
   * from an address of its own: a client of its own to the load balancer).
   */
  constructor(
    target: Pick<TestApp, 'app'> | string,
    private readonly headers: Record<string, string> = {},
    private readonly agent?: http.Agent,
  ) {
    this.http = supertest(typeof target === 'string' ? target : target.app) as unknown as supertest.SuperTest<supertest.Test>;
  }

  private request(method: 'get' | 'post', path: string): supertest.Test {
    const request = this.http[method](path);
    return this.agent ? request.agent(this.agent) : request;
  }

  private keep(res: supertest.Response): supertest.Response {
    const set = res.headers['set-cookie'] as unknown as string[] | undefined;
    for (const line of set ?? []) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.text ?? '')?.[1];
    if (token) this.csrf = token;
    return res;
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string, headers: Record<string, string> = {}) {
    return this.keep(await this.request('get', path).set({ ...this.headers, Cookie: this.cookieHeader, ...headers }));
  }

  /** Posts a urlencoded form; the CSRF token is added unless `_csrf` is given (null: left out). */
  async post(path: string, fields: Record<string, string | string[] | null> = {}) {
    const form = new URLSearchParams();
    if (!('_csrf' in fields)) form.append('_csrf', this.csrf);
    for (const [k, v] of Object.entries(fields)) {
      if (v === null) continue;
      for (const item of Array.isArray(v) ? v : [v]) form.append(k, item);
    }
    return this.keep(
      await this.request('post', path).set({ ...this.headers, Cookie: this.cookieHeader }).type('form').send(form.toString()),
    );
  }

  /**
   * Posts a multipart upload as the staff app's forms do: the CSRF token as the first
   * field (unless `_csrf` is given; null: left out), then the other fields, then the file.
   */
  async upload(path: string, file: { name: string; content: Buffer; type?: string }, fields: Record<string, string | null> = {}) {
    let req = this.request('post', path).set({ ...this.headers, Cookie: this.cookieHeader });
    if (!('_csrf' in fields)) req = req.field('_csrf', this.csrf);
    for (const [k, v] of Object.entries(fields)) if (v !== null) req = req.field(k, v);
    return this.keep(await req.attach('file', file.content, { filename: file.name, contentType: file.type ?? 'application/octet-stream' }));
  }

  /** Uploads `csv` to the invitation form as the browser does, and follows its redirect (303) to the result. */
  async inviteFromCsv(csv: string | Buffer, csrf: string | null = this.csrf) {
    const res = await this.upload('/admin/subscribers/import', { name: 'list.csv', content: Buffer.isBuffer(csv) ? csv : Buffer.from(csv), type: 'text/csv' }, { _csrf: csrf });
    return res.status === 303 ? this.get(res.headers.location!) : res;
  }

  async signIn(token: string) {
    await this.get('/admin/sign-in');
    const res = await this.post('/admin/sign-in', { token });
    if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
    return res;
  }
}

/** The text of the page without tags, for checking what a person reads. */
export const visibleText = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
