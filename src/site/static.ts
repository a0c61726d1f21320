import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { projectRoot } from '../lib/config.js';
import { staticUrl } from './urls.js';

/*
 * The site's own stylesheets and icon, from static/ under /static. Pages link them with
 * a content hash in the query, so a changed file gets a new URL and caches may keep each
 * version for long.
 */

export const staticDir = path.join(projectRoot, 'static');

const versions = new Map<string, string>();

/** The URL of a file in static/, with its content hash as version. */
export function assetUrl(base: string, file: string): string {
  let version = versions.get(file);
  if (version === undefined) {
    version = createHash('sha256').update(readFileSync(path.join(staticDir, file))).digest('hex').slice(0, 12);
    versions.set(file, version);
  }
  return `${staticUrl(base, file)}?v=${version}`;
}

export const serveStatic = (): RequestHandler =>
  express.static(staticDir, { maxAge: '7d', index: false, redirect: false, fallthrough: true, dotfiles: 'ignore' });
