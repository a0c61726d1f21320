import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import pLimit, { type LimitFunction } from 'p-limit';
import { Piscina } from 'piscina';
import sanitizeHtml from 'sanitize-html';
import { AppError, unprocessable } from './errors.js';
import type { RenderResult, RenderTask } from './html-worker.js';

/*
 * The one sanitiser (the rendering itself is in html-worker.ts). Markdown is rendered
 * in worker threads, so that a costly body never holds the event loop, and under a time
 * limit, so that it never holds a worker for long either.
 */

/** A render taking longer is stopped (its thread ends) and the text refused with a 422. */
export const RENDER_TIME_LIMIT_MS = 3000;

/** One render thread per core but one, which stays with the event loop; at least one. */
export const RENDER_THREADS = Math.max(1, availableParallelism() - 1);

/**
 * Texts of one newsroom waiting for a thread at once; past this its next text is a 503
 * (a release in 12 languages is 12 texts).
 */
export const MAX_WAITING_PER_NEWSROOM = 64;

/** Under tsx or the tests the modules are TypeScript: the worker then loads tsx itself. */
const fromSource = import.meta.url.endsWith('.ts');

let pool: Piscina | undefined;

function renderPool(): Piscina {
  pool ??= new Piscina({
    filename: new URL(fromSource ? './html-worker.ts' : './html-worker.js', import.meta.url).href,
    execArgv: fromSource && !process.execArgv.some((arg) => arg.includes('tsx'))
      ? [...process.execArgv, '--import', 'tsx']
      : process.execArgv,
    // Idle threads end (and never keep the process up).
    minThreads: 0,
    maxThreads: RENDER_THREADS,
    idleTimeout: 60_000,
  });
  return pool;
}

/*
 * The pool's own queue is first come, first served: 30 long texts of one newsroom once
 * held another newsroom's short save for 12 s. So each newsroom has a queue of its own
 * in front of it, from which at most RENDER_THREADS of its texts are in the pool at a
 * time: a text of another newsroom waits for at most that many of each busy newsroom,
 * never for a whole backlog, and a newsroom alone still has every thread.
 */
const newsroomQueues = new Map<string, LimitFunction>();

function newsroomQueue(newsroom: string): LimitFunction {
  let queue = newsroomQueues.get(newsroom);
  if (!queue) newsroomQueues.set(newsroom, (queue = pLimit(RENDER_THREADS)));
  return queue;
}

/** Stops the render threads (at shutdown; a later render starts new ones). */
export async function closeRenderer(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}

export interface RenderOptions {
  /** The path a refusal names. */
  field?: string;
  /** Whose text it is: the newsroom's id (its renders take turns with other newsrooms'). */
  newsroom?: string;
  timeLimitMs?: number;
}

/**
 * Markdown (with any inline HTML in it) to HTML that is safe in every output: 422 (at
 * `field`) when the HTML has too many elements, nests too deep or takes too long to
 * render; 503 when too many texts of the newsroom are waiting already.
 */
export async function renderMarkdown(source: string, options: RenderOptions = {}): Promise<string> {
  const { field = 'body', newsroom = '', timeLimitMs = RENDER_TIME_LIMIT_MS } = options;
  if (source === '') return '';
  const queue = newsroomQueue(newsroom);
  if (queue.pendingCount >= MAX_WAITING_PER_NEWSROOM) {
    throw new AppError(503, 'busy', 'Too many texts are being rendered right now; try again in a moment.');
  }
  const result = await queue(() => renderInPool(source, field, timeLimitMs));
  if ('refused' in result) throw unprocessable('A text is too complex to render.', [{ path: field, message: result.refused, code: 'too_complex' }]);
  return result.html;
}

async function renderInPool(source: string, field: string, timeLimitMs: number): Promise<RenderResult> {
  // The clock starts when a thread takes the task (the worker says so on `started`), so
  // that waiting in the queue or for a thread to start never counts against the text.
  const abort = new AbortController();
  const { port1: started, port2: startedInWorker } = new MessageChannel();
  let timer: NodeJS.Timeout | undefined;
  started.once('message', () => {
    timer = setTimeout(() => abort.abort(), timeLimitMs);
  });
  try {
    return await renderPool().run({ source, started: startedInWorker } satisfies RenderTask, {
      signal: abort.signal,
      transferList: [startedInWorker],
    });
  } catch (error) {
    if (abort.signal.aborted) {
      throw unprocessable('A text takes too long to render.', [
        { path: field, message: `takes longer than ${timeLimitMs} ms to render; simplify its HTML`, code: 'too_complex' },
      ]);
    }
    throw error;
  } finally {
    clearTimeout(timer);
    started.close();
  }
}

const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': '\u00a0' };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Plain text as HTML (content or a quoted attribute value): the one escaping of text for HTML outside the templates. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * The text of stored (sanitised) HTML, for search and for outputs that take no markup
 * (feed and sitemap descriptions): tags dropped, blocks kept apart by a space, or with
 * `lines` by a line break (the search index, so that a snippet can show where a heading,
 * list item or paragraph ends).
 */
export function htmlToText(html: string, { lines = false } = {}): string {
  const text = sanitizeHtml(html.replace(/<\/(p|h[1-6]|li|dt|dd|blockquote|pre|tr|th|td|figcaption|caption)>|<br\s*\/?>/gi, '$&\n'), {
    allowedTags: [],
    allowedAttributes: {},
  });
  const decoded = text.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (entity) => entities[entity]!);
  if (!lines) return decoded.replace(/\s+/g, ' ').trim();
  return decoded.replace(/[^\S\n]+/g, ' ').replace(/ ?\n[\s]*/g, '\n').trim();
}
