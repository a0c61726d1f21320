import type sharpModule from 'sharp';

/*
 * sharp (libvips) is loaded at the first image, not at start: a web process that serves
 * no upload or favicon never holds it, nor does a worker.
 */
let loading: Promise<typeof sharpModule> | undefined;

export function loadSharp(): Promise<typeof sharpModule> {
  loading ??= import('sharp').then(({ default: sharp }) => {
    // No cache of libvips operations: an image is read once, and the cache would keep what
    // was decoded (a whole 100 MP GIF frame, 400 MB) alive after the upload is answered.
    sharp.cache(false);
    return sharp;
  });
  return loading;
}
