import { MessageChannel } from 'node:worker_threads';
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

/** Under tsx or the tests the modules are TypeScript: the worker then loads tsx itself. */
const fromSource = import.meta.url.endsWith('.ts');

let pool: Piscina | undefined;

function renderPool(): Piscina {
  pool ??= new Piscina({
    filename: new URL(fromSource ? './html-worker.ts' : './html-worker.js', import.meta.url).href,
    execArgv: fromSource && !process.execArgv.some((arg) => arg.includes('tsx'))
      ? [...process.execArgv, '--import', 'tsx']
      : process.execArgv,
    // One thread: on the usual two cores the other stays free for the event loop.
    // Idle threads end (and never keep the process up).
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: 60_000,
    maxQueue: 'auto',
  });
  return pool;
}

/** Stops the render threads (at shutdown; a later render starts new ones). */
export async function closeRenderer(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}

/**
 * Markdown (with any inline HTML in it) to HTML that is safe in every output. `field`
 * is the path a refusal names: 422 when the HTML has too many elements, nests too
 * deep or takes too long to render; 503 when every render thread is busy and the queue
 * is full.
 */
export async function renderMarkdown(source: string, field = 'body', timeLimitMs = RENDER_TIME_LIMIT_MS): Promise<string> {
  if (source === '') return '';
  // The clock starts when a thread takes the task (the worker says so on `started`), so
  // that waiting in the queue or for a thread to start never counts against the text.
  const abort = new AbortController();
  const { port1: started, port2: startedInWorker } = new MessageChannel();
  let timer: NodeJS.Timeout | undefined;
  started.once('message', () => {
    timer = setTimeout(() => abort.abort(), timeLimitMs);
  });
  let result: RenderResult;
  try {
    result = await renderPool().run({ source, started: startedInWorker } satisfies RenderTask, {
      signal: abort.signal,
      transferList: [startedInWorker],
    });
  } catch (error) {
    if (abort.signal.aborted) {
      throw unprocessable('A text takes too long to render.', [
        { path: field, message: `takes longer than ${timeLimitMs} ms to render; simplify its HTML`, code: 'too_complex' },
      ]);
    }
    if (/queue is at limit/i.test((error as Error).message)) {
      throw new AppError(503, 'busy', 'Too many texts are being rendered right now; try again in a moment.');
    }
    throw error;
  } finally {
    clearTimeout(timer);
    started.close();
  }
  if ('refused' in result) throw unprocessable('A text is too complex to render.', [{ path: field, message: result.refused, code: 'too_complex' }]);
  return result.html;
}

const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': '\u00a0' };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Plain text as HTML (content or a quoted attribute value): the one escaping of text for HTML outside the templates. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * The text of stored (sanitised) HTML, for search and for outputs that take no markup
 * (feed and sitemap descriptions): tags dropped, blocks kept apart by a space.
 */
export function htmlToText(html: string): string {
  const text = sanitizeHtml(html.replace(/<\/(p|h[1-6]|li|dt|dd|blockquote|pre|tr|th|td|figcaption|caption)>|<br\s*\/?>/gi, '$& '), {
    allowedTags: [],
    allowedAttributes: {},
  });
  return text.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (entity) => entities[entity]!).replace(/\s+/g, ' ').trim();
}
