import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { projectRoot } from '../lib/config.js';
import { loadSharp } from '../lib/sharp.js';
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

/** An ICO file holding one PNG (allowed since Windows Vista, read by every browser). */
function icoHolding(png: Buffer, size: number): Buffer {
  const header = Buffer.alloc(22);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(size, 6);
  header.writeUInt8(size, 7);
  header.writeUInt16LE(1, 10); // colour planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(png.length, 14);
  header.writeUInt32LE(header.length, 18); // where the image starts
  return Buffer.concat([header, png]);
}

let favicon: Promise<Buffer> | undefined;

/**
 * /favicon.ico for clients that ask for it without reading the page (feed readers, link
 * previews, bookmarks): static/favicon.svg as a 32 px PNG in an ICO, made once per process.
 */
export function faviconIco(): Promise<Buffer> {
  favicon ??= loadSharp()
    .then((sharp) => sharp(path.join(staticDir, 'favicon.svg'), { density: 300 }).resize(32, 32).png().toBuffer())
    .then((png) => icoHolding(png, 32));
  return favicon;
}
