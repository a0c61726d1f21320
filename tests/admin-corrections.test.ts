import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from './support/app.js';
import { buildNewsroom, buildRelease, type NewsroomFixture } from './support/factories.js';
import { StaffClient } from './support/staff.js';

/* The staff app's side of corrections: the editor of a published release, and the withdraw form. */

let t: TestApp;
let newsroom: NewsroomFixture;
let staff: StaffClient;

beforeAll(async () => {
  t = await startTestApp();
  newsroom = await buildNewsroom(t);
  staff = new StaffClient(t);
  await staff.signIn(newsroom.token);
});
afterAll(() => t.close());

const versionOf = (html: string) => /name="version" value="(\d+)"/.exec(html)![1]!;
const published = async () => {
  const release = await buildRelease(t, newsroom);
  await t.http.post(`/api/releases/${release.id}/publish`).set(newsroom.auth).expect(200);
  return release;
};
const editorForm = (version: string, overrides: Record<string, string> = {}) => ({
  version,
  type: 'press-release',
  'translations.fi.title': 'Uusi kirjasto avataan',
  'translations.fi.lead': 'Kaupunki avaa uuden kirjaston.',
  'translations.fi.body': 'Kirjasto avataan **tiistaina**.',
  'keywords.fi': 'kirjasto, kulttuuri',
  'translations.sv.title': 'Nytt bibliotek öppnas',
  'translations.sv.lead': 'Staden öppnar ett nytt bibliotek.',
  'translations.sv.body': 'Biblioteket öppnas **på måndag**.',
  'keywords.sv': 'bibliotek',
  ...overrides,
});

describe('the editor of a published release', () => {
  it('asks whether the edit is a correction (with notes) or a minor edit, and records it', async () => {
    const draft = await buildRelease(t, newsroom);
    // A draft's editor has the question hidden.
    expect((await staff.get(`/admin/releases/${draft.id}`)).text).toMatch(/<fieldset class="change"[^>]*hidden>/);

    const release = await published();
    const page = await staff.get(`/admin/releases/${release.id}`);
    expect(page.text).toMatch(/<fieldset class="change"[^>]*data-while="published">/);
    expect(page.text).toContain('name="change.kind" value="correction"');
    expect(page.text).toContain('name="change.note.fi"');
    expect(page.text).toContain('name="change.note.sv"');
    const version = versionOf(page.text);

    // Neither chosen: refused, the text kept, the question marked.
    const unsaid = await staff.post(`/admin/releases/${release.id}`, editorForm(version));
    expect(unsaid.status).toBe(422);
    expect(unsaid.text).toContain('href="#f-change"');
    expect(unsaid.text).toContain('**tiistaina**');

    // A correction without the Swedish note: refused at that note.
    const half = await staff.post(`/admin/releases/${release.id}`, editorForm(version, { 'change.kind': 'correction', 'change.note.fi': 'Päivä korjattu.' }));
    expect(half.status).toBe(422);
    expect(half.text).toContain('href="#f-change-note-sv"');
    // The error is shown at that note, not again for the whole question.
    expect(half.text).not.toContain('id="f-change-error"');
    expect(half.text).toContain('id="f-change-note-sv-error"');
    expect(half.text).toMatch(/id="change-correction" name="change.kind" value="correction" checked/);

    const saved = await staff.post(
      `/admin/releases/${release.id}`,
      editorForm(version, { 'change.kind': 'correction', 'change.note.fi': 'Päivä korjattu.', 'change.note.sv': 'Dagen rättad.' }),
    );
    expect(saved.status).toBe(303);
    const after = (await t.http.get(`/api/releases/${release.id}`).expect(200)).body;
    expect(after.corrections).toEqual([
      expect.objectContaining({ kind: 'correction', fields: ['translations.fi.body'], note: { fi: 'Päivä korjattu.', sv: 'Dagen rättad.' } }),
    ]);
    const shown = await staff.get(`/admin/releases/${release.id}`);
    expect(shown.text).toContain('id="corrections"');
    expect(shown.text).toContain('Päivä korjattu.');

    const minor = await staff.post(
      `/admin/releases/${release.id}`,
      editorForm(versionOf(shown.text), { 'translations.sv.title': 'Nytt bibliotek öppnar', 'change.kind': 'minor', 'change.note.fi': 'ignored' }),
    );
    expect(minor.status).toBe(303);
    const last = (await t.http.get(`/api/releases/${release.id}`).expect(200)).body;
    expect(last.corrections[1]).toMatchObject({ kind: 'minor', fields: ['translations.sv.title'], note: {} });
  });
});

describe('the withdraw form', () => {
  it('asks for an optional public reason per language, shown on the 410 page', async () => {
    const release = await published();
    const confirm = await staff.get(`/admin/releases/${release.id}/withdraw`);
    expect(confirm.text).toContain('name="reason.fi"');
    expect(confirm.text).toContain('name="reason.sv"');
    const res = await staff.post(`/admin/releases/${release.id}/withdraw`, {
      version: versionOf(confirm.text),
      'reason.fi': 'Julkaistu vahingossa.',
      'reason.sv': '',
    });
    expect(res.status).toBe(303);
    const withdrawn = (await t.http.get(`/api/releases/${release.id}`).set(newsroom.auth).expect(200)).body;
    expect(withdrawn).toMatchObject({ status: 'withdrawn', withdrawal: { reason: { fi: 'Julkaistu vahingossa.' } } });
    const gone = await t.http.get(new URL(release.links.web.fi).pathname).expect(410);
    expect(gone.text).toContain('Julkaistu vahingossa.');
  });
});
