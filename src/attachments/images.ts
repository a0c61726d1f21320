import sharp from 'sharp';
import { unsupportedMediaType } from '../lib/errors.js';

/** The long side of the web-size rendition, in pixels. */
const RENDITION_SIZE = 1600;

export interface ProcessedImage {
  /** As displayed, EXIF orientation applied. */
  width: number;
  height: number;
  /** The web-size rendition: WebP, upright, without metadata. */
  rendition: Buffer;
}

/**
 * Measures an image and makes its web-size rendition in memory (it is small), so that any
 * failure here is the image's: bytes that pass the magic-number check but do not decode
 * are a 415. sharp's defaults reject truncated data and pixel bombs and drop metadata.
 */
export async function processImage(file: string): Promise<ProcessedImage> {
  try {
    const { autoOrient } = await sharp(file).metadata();
    const rendition = await sharp(file, { autoOrient: true })
      .resize({ width: RENDITION_SIZE, height: RENDITION_SIZE, fit: 'inside', withoutEnlargement: true })
      .webp()
      .toBuffer();
    return { width: autoOrient.width, height: autoOrient.height, rendition };
  } catch {
    throw unsupportedMediaType('The image could not be decoded.');
  }
}
