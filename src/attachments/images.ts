import { Semaphore } from 'async-mutex';
import type { Metadata, Sharp } from 'sharp';
import { loadSharp } from '../lib/sharp.js';
import { unprocessable, unsupportedMediaType } from '../lib/errors.js';

/** The long side of the web-size rendition, in pixels. */
const RENDITION_SIZE = 1600;

/**
 * The largest image taken: 100 megapixels (e.g. 12 000 x 8 000) is more than any press
 * camera gives. sharp's own default (268 MP) allowed a 182 KB GIF to take 1 GB.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;

const MB = 1024 * 1024;

/**
 * The memory all image decodes under way may take together, as decodeMemory reckons it
 * from each image's header; an image that alone would need more is refused (422).
 */
export const IMAGE_MEMORY_BUDGET = 384 * MB;

/**
 * What any decode reserves at least: half the budget, so that at most two run at once.
 * Each holds a thread of libuv's pool (4 by default, shared with file and DNS work), so
 * uploads queue here rather than starve every other request.
 */
const MIN_RESERVATION = IMAGE_MEMORY_BUDGET / 2;

/**
 * The one limiter every reading of an image passes through: header, renditions, logos.
 * It counts whole MB (async-mutex's semaphore takes time in proportion to its value).
 */
const decodes = new Semaphore(IMAGE_MEMORY_BUDGET / MB);

/** Decodes under way and the memory they reserve, with the highest of each since `peak` was last reset. */
export const decodeLoad = { running: 0, reserved: 0, peak: { running: 0, reserved: 0 } };

async function withReservation<T>(bytes: number, work: () => Promise<T>): Promise<T> {
  const weight = Math.ceil(Math.max(bytes, MIN_RESERVATION) / MB) * MB;
  return decodes.runExclusive(async () => {
    decodeLoad.running++;
    decodeLoad.reserved += weight;
    decodeLoad.peak.running = Math.max(decodeLoad.peak.running, decodeLoad.running);
    decodeLoad.peak.reserved = Math.max(decodeLoad.peak.reserved, decodeLoad.reserved);
    try {
      return await work();
    } finally {
      decodeLoad.running--;
      decodeLoad.reserved -= weight;
    }
  }, weight / MB);
}

/*
 * How libvips (in sharp 0.35) spends memory making a rendition, measured on images of up
 * to 100 MP (tests/image-memory.test.ts checks the sums below against real decodes).
 * It streams: while shrinking it holds up to about 2 100 rows of the image (a baseline
 * JPEG or a WebP is even shrunk while it is decoded), plus some 20 MB of its own. Some
 * images cannot be streamed and are decoded whole first: a GIF frame (composed in
 * RGBA), an interlaced PNG (Adam7: no row is complete before the last pass), a
 * progressive JPEG (the coefficients of every scan, 2 bytes each) and an animated WebP
 * (composed on its canvas). That is where a 75 KB GIF took 450 MB. Beyond the image,
 * LIBVIPS_OWN covers libvips's own buffers and what earlier decodes freed but the
 * allocator has not yet given back (up to 70 MB after 100 MP GIFs, one after another).
 */
const BUFFERED_ROWS = 2304;
const LIBVIPS_OWN = 96 * MB;

type ImageHeader = Pick<Metadata, 'format' | 'width' | 'height' | 'pageHeight' | 'channels' | 'depth' | 'isProgressive' | 'chromaSubsampling' | 'pages'>;

/** Bytes of one pixel of each channel as decoded. */
const sampleBytes = (depth: ImageHeader['depth']) => (depth === 'uchar' || depth === 'char' ? 1 : depth === 'ushort' || depth === 'short' ? 2 : 4);

/** Samples a JPEG stores per pixel, from its chroma subsampling (4:2:0 stores 1.5). */
function jpegSamples(header: ImageHeader): number {
  const parts = header.chromaSubsampling?.split(':').map(Number) ?? [];
  if (parts.length < 3 || parts.some(Number.isNaN)) return header.channels;
  const [j, a, b] = parts as [number, number, number];
  return 1 + (a + b) / j + (parts.length > 3 ? 1 : 0);
}

/** The bytes of what is decoded whole before any row comes out; 0 for an image that streams. */
function wholeBytes(header: ImageHeader, pixels: number): number {
  if (header.format === 'gif' || (header.format === 'webp' && (header.pages ?? 1) > 1)) return pixels * 4;
  if (header.format === 'png' && header.isProgressive) return pixels * header.channels * sampleBytes(header.depth);
  if (header.format === 'jpeg' && header.isProgressive) return pixels * 2 * jpegSamples(header);
  return 0;
}

/** The memory decoding an image and making its rendition takes at most, in bytes, from its header. */
export function decodeMemory(header: ImageHeader): number {
  const height = header.pageHeight ?? header.height;
  const channels = header.format === 'gif' ? 4 : header.channels;
  const rows = header.width * channels * sampleBytes(header.depth) * Math.min(height, BUFFERED_ROWS);
  return LIBVIPS_OWN + rows + wholeBytes(header, header.width * height);
}

export interface ProcessedImage {
  /** As displayed, EXIF orientation applied. */
  width: number;
  height: number;
  /** The web-size rendition: WebP, upright, without metadata. */
  rendition: Buffer;
}

/** The box a newsroom logo is fitted inside, in pixels. */
const LOGO_BOX = { width: 800, height: 400 };

export interface ProcessedLogo {
  /** The re-encoded PNG: upright, without metadata, never larger than LOGO_BOX. */
  png: Buffer;
  width: number;
  height: number;
}

const undecodable = () => unsupportedMediaType('The image could not be decoded.', { code: 'image-undecodable' });

/**
 * Re-encodes an image within the limiter, so that any failure here is the image's: bytes
 * that pass the magic-number check but do not decode are a 415, an image over
 * MAX_IMAGE_PIXELS or one whose decoding would take more than IMAGE_MEMORY_BUDGET a 422.
 * The header alone tells both: a pixel bomb is refused before any decoding. sharp
 * rejects truncated data and drops metadata.
 */
async function reencode<T>(file: string, encode: (image: Sharp, metadata: Metadata) => Promise<T>): Promise<T> {
  const sharp = await loadSharp();
  const metadata = await withReservation(0, () => sharp(file).metadata()).catch(() => {
    throw undecodable();
  });
  const width = metadata.width;
  const height = metadata.pageHeight ?? metadata.height;
  if (!(width * height <= MAX_IMAGE_PIXELS)) {
    const params = { width, height, megapixels: MAX_IMAGE_PIXELS / 1_000_000 };
    throw unprocessable('The image is too large.', [
      { path: 'file', message: `is ${width} x ${height} pixels; at most ${params.megapixels} megapixels are taken`, code: 'image_too_large', params },
    ]);
  }
  const memory = decodeMemory(metadata);
  if (memory > IMAGE_MEMORY_BUDGET) {
    const params = { width, height, mb: Math.ceil(memory / MB), maximum: IMAGE_MEMORY_BUDGET / MB };
    throw unprocessable('The image would take too much memory to decode.', [
      {
        path: 'file',
        message:
          `is ${width} x ${height} pixels and would take about ${params.mb} MB to decode; at most ${params.maximum} MB are taken ` +
          '(a GIF, an interlaced PNG or a progressive JPEG is decoded whole): make it smaller, or save it as a plain JPEG or PNG',
        code: 'image_too_costly',
        params,
      },
    ]);
  }
  return withReservation(memory, async () => {
    try {
      return await encode(sharp(file, { autoOrient: true, limitInputPixels: MAX_IMAGE_PIXELS, sequentialRead: true }), metadata);
    } catch {
      throw undecodable();
    }
  });
}

/** Measures an image and makes its web-size rendition in memory (it is small). */
export const processImage = (file: string): Promise<ProcessedImage> =>
  reencode(file, async (image, metadata) => ({
    width: metadata.autoOrient.width,
    height: metadata.autoOrient.height,
    rendition: await image.resize({ width: RENDITION_SIZE, height: RENDITION_SIZE, fit: 'inside', withoutEnlargement: true }).webp().toBuffer(),
  }));

/**
 * A raster logo re-encoded (whatever the source format, so that no bytes of the upload
 * are ever served) to a PNG fitted inside LOGO_BOX: PNG keeps transparency and shows in
 * every email client.
 */
export const processLogo = (file: string): Promise<ProcessedLogo> =>
  reencode(file, async (image) => {
    const { data, info } = await image.resize({ ...LOGO_BOX, fit: 'inside', withoutEnlargement: true }).png({ compressionLevel: 9 }).toBuffer({ resolveWithObject: true });
    return { png: data, width: info.width, height: info.height };
  });
