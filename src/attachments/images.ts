import pLimit from 'p-limit';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { unprocessable, unsupportedMediaType } from '../lib/errors.js';

/** The long side of the web-size rendition, in pixels. */
const RENDITION_SIZE = 1600;

/**
 * The largest image taken: 100 megapixels (e.g. 12 000 x 8 000) is more than any press
 * camera gives. Decoding one takes up to 400 MB; sharp's own default (268 MP) allowed
 * a 182 KB GIF to take 1 GB.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;

/**
 * Images are decoded at most this many at a time: each decode holds a libuv thread (4 by
 * default, shared with file and DNS work) and a lot of memory, so uploads queue here
 * rather than starve every other request.
 */
const IMAGE_CONCURRENCY = 2;
const imageQueue = pLimit(IMAGE_CONCURRENCY);

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
 * Re-encodes an image in the queue, so that any failure here is the image's: bytes that
 * pass the magic-number check but do not decode are a 415, one over MAX_IMAGE_PIXELS a
 * 422. The header alone tells the size: a pixel bomb is refused before any decoding.
 * sharp rejects truncated data and drops metadata.
 */
function reencode<T>(file: string, encode: (image: Sharp, metadata: Metadata) => Promise<T>): Promise<T> {
  return imageQueue(async () => {
    const metadata = await sharp(file).metadata().catch(() => {
      throw undecodable();
    });
    const size = { width: metadata.width, height: metadata.pageHeight ?? metadata.height, megapixels: MAX_IMAGE_PIXELS / 1_000_000 };
    if (!(size.width * size.height <= MAX_IMAGE_PIXELS)) {
      throw unprocessable('The image is too large.', [
        {
          path: 'file',
          message: `is ${size.width} x ${size.height} pixels; at most ${size.megapixels} megapixels are taken`,
          code: 'image_too_large',
          params: size,
        },
      ]);
    }
    try {
      return await encode(sharp(file, { autoOrient: true, limitInputPixels: MAX_IMAGE_PIXELS }), metadata);
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
