import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectInfo, ObjectStore } from './store.js';

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * A folder as the store: the key is the path below `root`. An object is written to a
 * temp file in `tempDir` (on the same file system), then renamed into place, so that
 * nobody reads one half-written.
 */
export function createLocalStore(root: string, tempDir: string): ObjectStore {
  const fileOf = (key: string) => path.join(root, ...key.split('/'));

  async function* walk(dir: string): AsyncGenerator<ObjectInfo> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error) => {
      if (missing(error)) return [];
      throw error;
    });
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        yield* walk(file);
      } else if (entry.isFile()) {
        const info = await stat(file).catch(() => undefined);
        if (info) yield { key: path.relative(root, file).split(path.sep).join('/'), size: info.size };
      }
    }
  }

  return {
    location: { variable: 'STORAGE_DIR', place: root },
    async put(key, body, options = {}) {
      await mkdir(tempDir, { recursive: true });
      const temp = path.join(tempDir, `${randomUUID()}.part`);
      try {
        if (body instanceof Uint8Array) await writeFile(temp, body);
        else await pipeline(body as Readable, createWriteStream(temp));
        const target = fileOf(key);
        await mkdir(path.dirname(target), { recursive: true });
        if (!options.ifAbsent) {
          await rename(temp, target);
          return true;
        }
        // A link fails when the target exists: of two writers, exactly one wins.
        return await link(temp, target).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'EEXIST') return false;
            throw error;
          },
        );
      } finally {
        await rm(temp, { force: true });
      }
    },
    async get(key, range) {
      // Opened first, then measured: the size and the bytes are of the same file.
      const handle = await open(fileOf(key), 'r').catch((error) => {
        if (missing(error)) return undefined;
        throw error;
      });
      if (!handle) return undefined;
      try {
        const { size } = await handle.stat();
        return { body: handle.createReadStream(range ? { start: range.start, end: range.end } : {}), size };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },
    async head(key) {
      const info = await stat(fileOf(key)).catch((error) => {
        if (missing(error)) return undefined;
        throw error;
      });
      return info?.isFile() ? { key, size: info.size } : undefined;
    },
    async delete(key) {
      await rm(fileOf(key), { force: true });
    },
    async *list(prefix) {
      // Only the folder the prefix names is walked, not the whole store.
      const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      for await (const object of walk(fileOf(folder))) {
        if (object.key.startsWith(prefix)) yield object;
      }
    },
  };
}
