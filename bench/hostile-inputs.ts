import { createDeflate, crc32, gzipSync } from 'node:zlib';
import { decodeMemory, IMAGE_MEMORY_BUDGET } from '../src/attachments/images.js';

/* The hostile bodies of issues 9 and 14, shared by bench/hostile.ts and the tests. */

/**
 * A GIF of a few bytes whose header and one frame claim `width` x `height` pixels,
 * with just enough image data to decode (the rest comes out blank). 16383 x 16383
 * (268 MP) once took 13 s and 1.2 GB; 10 000 x 10 000 (100 MP, the most taken) 450 MB.
 */
export function pixelBombGif(width = 16383, height = width): Buffer {
  const b = Buffer.alloc(29);
  b.write('GIF89a', 0);
  b.writeUInt16LE(width, 6);
  b.writeUInt16LE(height, 8);
  b[13] = 0x2c; // image descriptor at 0,0, as large as the screen
  b.writeUInt16LE(width, 18);
  b.writeUInt16LE(height, 20);
  b.set([2, 2, 0x4c, 0x01, 0, 0x3b], 23); // a few bytes of LZW data, then the trailer
  return b;
}

/** The largest size (a square's side, say) whose image `reckon` (see decodeMemory) finds within IMAGE_MEMORY_BUDGET. */
export function largestTaken(reckon: (size: number) => number): number {
  let low = 1;
  let high = 100_000;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (reckon(mid) <= IMAGE_MEMORY_BUDGET) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The side of the largest square GIF taken (decoded whole: the costliest image there is). */
export const largestGifSide = () =>
  largestTaken((side) => decodeMemory({ format: 'gif', width: side, height: side, channels: 3, depth: 'uchar', isProgressive: false }));

/** Adam7's passes: first column and row, then the steps between columns and rows. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/**
 * A valid PNG of `width` x `height` transparent black pixels, RGBA in 8 or 16 bits,
 * interlaced (Adam7) or not: its zeros deflate about 1000 to 1, so a file of hundreds of
 * KB decodes to hundreds of MB. Made by streaming, without holding the pixels.
 */
export async function blankPng(width: number, height: number, options: { bits: 8 | 16; interlaced: boolean }): Promise<Buffer> {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const frame = Buffer.alloc(8 + data.length + 4);
    frame.writeUInt32BE(data.length, 0);
    body.copy(frame, 4);
    frame.writeUInt32BE(crc32(body), 8 + data.length);
    return frame;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = options.bits;
  header[9] = 6; // RGBA
  header[12] = options.interlaced ? 1 : 0;
  const pixelBytes = 4 * (options.bits / 8);
  // Each row of each pass: a filter byte (0, none) and its pixels.
  let raw = 0;
  for (const [x0, y0, dx, dy] of options.interlaced ? ADAM7 : [[0, 0, 1, 1] as const]) {
    const columns = Math.ceil((width - x0) / dx);
    const rows = Math.ceil((height - y0) / dy);
    if (columns > 0 && rows > 0) raw += rows * (1 + columns * pixelBytes);
  }
  const deflate = createDeflate();
  const compressed: Buffer[] = [];
  deflate.on('data', (part: Buffer) => compressed.push(part));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let left = raw; left > 0; left -= zeros.length) {
    if (!deflate.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', Buffer.concat(compressed)), chunk('IEND', Buffer.alloc(0))]);
}

/** About 5 KB of gzip that inflates to 5 MB of nested brackets. */
export const nestedBracketsGzip = (): Buffer => gzipSync(`{"a":${'['.repeat(5 * 1024 * 1024 - 10)}`, { level: 9 });

/** 200 000 characters of unclosed `<a>`: 8.5 s of sanitiser time before. */
export const unclosedTags = (): string => '<a>'.repeat(66_666);
