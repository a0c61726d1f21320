import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { largestGifSide, nestedBracketsGzip, pixelBombGif, unclosedTags } from './hostile-inputs.js';

/*
 * The hostile clients of bench/hostile.ts. They run in a worker thread of their own,
 * so that building and sending megabytes of body (and collecting them as garbage) is
 * not counted against the service's event loop, which the bench measures.
 */

/** What the clients attack: a newsroom, its token, and a release of it. */
export interface Target {
  base: string;
  slug: string;
  token: string;
  releaseId: string;
}

type Attack = [name: string, send: () => Promise<Response>];

export interface Phase {
  name: string;
  /** What the phase is judged by. */
  goal: 'latency' | 'memory';
  attacks: string[];
}

/** `count` members `"k<i>":<value>` of a JSON object, as text. */
const members = (count: number, value: string) => Array.from({ length: count }, (_, i) => `"k${i}":${value}`).join(',');

/** URL-encoded fields filling at most `bytes`. */
function formOf(bytes: number, field: (i: number) => string): string {
  const fields: string[] = [];
  for (let size = 0, i = 0; ; i++) {
    const next = field(i);
    if (size + next.length + 1 > bytes) return fields.join('&');
    fields.push(next);
    size += next.length + 1;
  }
}

/** A value made on first use, then kept. */
const once = <T>(make: () => T) => {
  let made: T | undefined;
  return () => (made ??= make());
};

/** The phases and their requests; each body is made once, when it is first sent. */
function phasesOf({ base, slug, token, releaseId }: Target): (Omit<Phase, 'attacks'> & { attacks: Attack[] })[] {
  const auth = { Authorization: `Bearer ${token}` };
  const json = { 'Content-Type': 'application/json' };
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const post = (path: string, headers: Record<string, string>, body: () => Buffer) => fetch(`${base}${path}`, { method: 'POST', headers, body: body() });
  const upload = (gif: () => Buffer) => {
    const data = new FormData();
    data.append('file', new Blob([gif()], { type: 'image/gif' }), 'bomb.gif');
    return fetch(`${base}/api/releases/${releaseId}/attachments`, { method: 'POST', headers: auth, body: data });
  };
  const releases = `/api/newsrooms/${slug}/releases`;
  const subscriptions = `/api/newsrooms/${slug}/subscriptions`;

  const gzipped = once(nestedBracketsGzip);
  const tags = once(() => Buffer.from(JSON.stringify({ translations: { fi: { title: 'x', body: unclosedTags() } } })));
  const badLanguages = once(() => Buffer.from(`{"translations":{${members(150_000, '{"title":"x"}').replace(/"k/g, '"x')}}}`));
  const bigGif = once(() => pixelBombGif());
  const unknownKeys = once(() => Buffer.from(`{"email":"reader@example.org",${members(250_000, '1')}}`));
  // Within 16 KB: 31 unknown keys of 32 unknown keys each (an object may have 32).
  const nestedUnknown = once(() => Buffer.from(`{"email":"reader@example.org",${members(31, `{${members(32, '1')}}`)}}`));
  const manyLanguages = once(() => Buffer.from(JSON.stringify({ email: 'reader@example.org', languages: Array.from({ length: 3000 }, () => 'x') })));
  const formLanguages = once(() => Buffer.from(`email=reader%40example.org&${formOf(16 * 1024 - 40, () => 'languages=zz')}`));
  const formFields = once(() => Buffer.from(formOf(16 * 1024, (i) => `f${i}=${i}`)));
  const largestGif = once(() => pixelBombGif(largestGifSide()));
  return [
    {
      name: 'with a token',
      goal: 'latency',
      attacks: [
        ['nested-bracket gzip, no token, unknown path', () => post('/api/nope', { ...json, 'Content-Encoding': 'gzip' }, gzipped)],
        ['nested-bracket gzip, with token', () => post(releases, { ...auth, ...json, 'Content-Encoding': 'gzip' }, gzipped)],
        ['<a> x 200K release body', () => post(releases, { ...auth, ...json }, tags)],
        ['16383x16383 GIF upload', () => upload(bigGif)],
        ['150 000 bad language keys (3.5 MB)', () => post(releases, { ...auth, ...json }, badLanguages)],
      ],
    },
    {
      name: 'anonymous',
      goal: 'latency',
      attacks: [
        ['subscription: 250 000 unknown keys (3.3 MB)', () => post(subscriptions, json, unknownKeys)],
        ['subscription: 31 x 32 unknown keys (8 KB)', () => post(subscriptions, json, nestedUnknown)],
        ['subscription: 3 000 languages (16 KB)', () => post(subscriptions, json, manyLanguages)],
        ['subscribe form: 1 300 languages (16 KB)', () => post(subscriptions, form, formLanguages)],
        ['confirmation form: 2 000 fields (16 KB)', () => post('/subscriptions/confirm/no-such-token', form, formFields)],
        ['preferences form: 2 000 fields (16 KB)', () => post('/subscriptions/preferences/no-such-token', form, formFields)],
        ['unsubscribe form: 2 000 fields (16 KB)', () => post('/unsubscribe/no-such-token', form, formFields)],
        ['staff sign-in: 2 000 fields (16 KB)', () => post('/admin/sign-in', form, formFields)],
      ],
    },
    {
      name: 'images',
      goal: 'memory',
      attacks: [[`${largestGifSide()}x${largestGifSide()} GIF upload (the costliest image taken)`, () => upload(largestGif)]],
    },
  ];
}

/** The phases, each with the names of its requests that contain `only` (phases left with none are dropped). */
export function hostilePhases(only: string): Phase[] {
  return phasesOf({ base: '', slug: '', token: '', releaseId: '' })
    .map(({ name, goal, attacks }) => ({ name, goal, attacks: attacks.map(([attack]) => attack).filter((attack) => attack.toLowerCase().includes(only)) }))
    .filter((phase) => phase.attacks.length > 0);
}

interface Orders {
  target: Target;
  phase: Phase;
  clients: number;
}

/** Counts of the statuses each request got (0: no answer). */
export type Statuses = Record<string, Record<number, number>>;

/**
 * Starts `clients` clients sending the requests of `phase` in a loop, in a worker thread.
 * `stop()` ends them and gives the statuses they got.
 */
export async function startAttack(orders: Orders): Promise<{ stop(): Promise<Statuses> }> {
  // The thread's entry is JavaScript that has tsx load this file.
  const self = JSON.stringify(import.meta.url);
  const worker = new Worker(`import('tsx/esm/api').then(({ tsImport }) => tsImport(${self}, ${self}))`, { eval: true, workerData: orders });
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  return {
    async stop() {
      const statuses = new Promise<Statuses>((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      const result = await statuses;
      await worker.terminate();
      return result;
    },
  };
}

if (!isMainThread) {
  const { target, phase, clients } = workerData as Orders;
  const attacks = phasesOf(target)
    .find((p) => p.name === phase.name)!
    .attacks.filter(([name]) => phase.attacks.includes(name));
  const statuses: Statuses = {};
  let stopping = false;
  const client = async (offset: number) => {
    for (let i = offset; !stopping; i++) {
      const [name, send] = attacks[i % attacks.length]!;
      const res = await send().catch(() => undefined);
      await res?.arrayBuffer().catch(() => undefined);
      const counts = (statuses[name] ??= {});
      counts[res?.status ?? 0] = (counts[res?.status ?? 0] ?? 0) + 1;
    }
  };
  const running = Array.from({ length: clients }, (_, i) => client(i));
  parentPort!.once('message', async () => {
    stopping = true;
    await Promise.all(running);
    parentPort!.postMessage(statuses);
  });
  parentPort!.postMessage('ready');
}
