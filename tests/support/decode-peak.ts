/*
 * Run as a child process (node --import tsx): makes the rendition of the image file
 * given, as an upload does (`count` times at once, as so many uploads would), and
 * prints how much the process's peak resident memory grew meanwhile, in bytes, as JSON.
 * libvips starts its threads on a small image first, so that only the decodes are
 * measured.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { processImage } from '../../src/attachments/images.js';

const [file, count = '1'] = process.argv.slice(2);
const warmUp = `${file}.warm-up.png`;
await writeFile(warmUp, await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer());
await processImage(warmUp);
const before = process.resourceUsage().maxRSS * 1024;
// Each upload has a file of its own (libvips would read one file only once).
const copies = Array.from({ length: Number(count) }, (_, i) => `${file}.${i}`);
await Promise.all(copies.map((copy) => copyFile(file!, copy)));
await Promise.all(copies.map((copy) => processImage(copy)));
console.log(JSON.stringify({ peakGrowth: process.resourceUsage().maxRSS * 1024 - before }));
