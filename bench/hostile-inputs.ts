import { gzipSync } from 'node:zlib';

/* The hostile bodies of issue 9, shared by bench/hostile.ts and the tests. */

/** A GIF header claiming 16383 x 16383 pixels (268 MP): decoding it took 13 s and 1.2 GB. */
export function pixelBombGif(): Buffer {
  const side = 16383;
  const b = Buffer.alloc(29);
  b.write('GIF89a', 0);
  b.writeUInt16LE(side, 6);
  b.writeUInt16LE(side, 8);
  b[13] = 0x2c; // image descriptor at 0,0, as large as the screen
  b.writeUInt16LE(side, 18);
  b.writeUInt16LE(side, 20);
  b.set([2, 2, 0x4c, 0x01, 0, 0x3b], 23); // a few bytes of LZW data, then the trailer
  return b;
}

/** About 5 KB of gzip that inflates to 5 MB of nested brackets. */
export const nestedBracketsGzip = (): Buffer => gzipSync(`{"a":${'['.repeat(5 * 1024 * 1024 - 10)}`, { level: 9 });

/** 200 000 characters of unclosed `<a>`: 8.5 s of sanitiser time before. */
export const unclosedTags = (): string => '<a>'.repeat(66_666);
