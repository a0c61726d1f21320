/*
 * Run as a child process (node --import tsx): makes the rendition of the image file
 * given, as an upload does, and prints how much the process's peak resident memory grew
 * meanwhile, in bytes, as JSON. libvips starts its threads on a small image first, so
 * that only the decode itself is measured.
 */
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { processImage } from '../../src/attachments/images.js';

const [file] = process.argv.slice(2);
const warmUp = `${file}.warm-up.png`;
await writeFile(warmUp, await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer());
await processImage(warmUp);
const before = process.resourceUsage().maxRSS * 1024;
await processImage(file!);
console.log(JSON.stringify({ peakGrowth: process.resourceUsage().maxRSS * 1024 - before }));
