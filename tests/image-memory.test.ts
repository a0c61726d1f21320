/*
 * Issue 14, "image decoding uses six times the memory it promises": every decode passes
 * one limiter that reserves what the image's header says its decoding takes, at most
 * IMAGE_MEMORY_BUDGET for all decodes together, and an image that alone would need more
 * is refused. Peak memory is measured in a child process, on the worst images taken.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { blankPng, largestGifSide, largestTaken, pixelBombGif } from '../bench/hostile-inputs.js';
import { decodeLoad, decodeMemory, IMAGE_MEMORY_BUDGET, processImage, processLogo } from '../src/attachments/images.js';
import { startTestApp } from './support/app.js';
import { buildNewsroom, buildRelease } from './support/factories.js';

const MB = 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-images-'));
const t = await startTestApp();
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const saved = (name: string, bytes: Buffer) => {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
};

const rgba16 = { format: 'png', channels: 4, depth: 'ushort', pages: 1 } as const;
const interlacedSide = largestTaken((side) => decodeMemory({ ...rgba16, width: side, height: side, isProgressive: true }));
const WIDE_HEIGHT = 2304;
const wideWidth = largestTaken((width) => decodeMemory({ ...rgba16, width, height: WIDE_HEIGHT, isProgressive: false }));
const gifSide = largestGifSide();
const gifHeader = { format: 'gif', width: gifSide, height: gifSide, channels: 3, depth: 'uchar', isProgressive: false } as const;

describe('the image limiter (issue 14)', () => {
  it('takes every decode, for renditions and logos alike: at most two at once, within the budget', async () => {
    const file = saved('photo.jpg', await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#369' } }).jpeg().toBuffer());
    decodeLoad.peak = { running: 0, reserved: 0 };
    const results = await Promise.all([0, 1, 2, 3].flatMap(() => [processImage(file), processLogo(file)]));
    expect(results).toHaveLength(8);
    expect(decodeLoad.peak).toEqual({ running: 2, reserved: IMAGE_MEMORY_BUDGET });
    expect(decodeLoad).toMatchObject({ running: 0, reserved: 0 });
  });

  it('runs a decode that needs more than half the budget alone', async () => {
    const gif = saved('bomb.gif', pixelBombGif(gifSide));
    const small = saved('small.png', await sharp({ create: { width: 300, height: 200, channels: 3, background: '#963' } }).png().toBuffer());
    decodeLoad.peak = { running: 0, reserved: 0 };
    await Promise.all([processImage(small), processImage(gif), processLogo(small), processImage(small)]);
    expect(decodeMemory(gifHeader)).toBeGreaterThan(IMAGE_MEMORY_BUDGET / 2);
    expect(decodeLoad.peak.reserved).toBeLessThanOrEqual(IMAGE_MEMORY_BUDGET);
  }, 60_000);

  it('refuses a GIF of 100 MP, within the pixel limit but decoded whole', async () => {
    await expect(processImage(saved('100mp.gif', pixelBombGif(10_000)))).rejects.toMatchObject({ status: 422, errors: [{ code: 'image_too_costly' }] });
  });

  it('refuses from its header an image whose decoding would need more than the budget (422)', async () => {
    // 64 MP, interlaced, 16 bits per channel: about 0.9 GB to decode whole. It used to be taken.
    const png = await blankPng(interlacedSide + 400, interlacedSide + 400, { bits: 16, interlaced: true });
    const newsroom = await buildNewsroom(t);
    const release = await buildRelease(t, newsroom);
    decodeLoad.peak = { running: 0, reserved: 0 };
    const res = await t.http.post(`/api/releases/${release.id}/attachments`).set(newsroom.auth).attach('file', png, 'large.png');
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'file', message: expect.stringMatching(/would take about \d+ MB to decode; at most 384 MB are taken/) }]);
    // Only its header was read.
    expect(decodeLoad.peak.reserved).toBe(IMAGE_MEMORY_BUDGET / 2);
  }, 60_000);
});

describe('the memory a decode takes (issue 14)', () => {
  const peakGrowth = async (file: string, count = 1) => {
    const child = ['--import', 'tsx', 'tests/support/decode-peak.ts', file, String(count)];
    const { stdout } = await promisify(execFile)(process.execPath, child, { maxBuffer: MB });
    return (JSON.parse(stdout) as { peakGrowth: number }).peakGrowth;
  };

  const worst: [string, () => Promise<Buffer>, Parameters<typeof decodeMemory>[0]][] = [
    [`the largest GIF taken (${gifSide} x ${gifSide})`, async () => pixelBombGif(gifSide), gifHeader],
    [
      `the largest interlaced 16-bit PNG taken (${interlacedSide} x ${interlacedSide})`,
      () => blankPng(interlacedSide, interlacedSide, { bits: 16, interlaced: true }),
      { ...rgba16, width: interlacedSide, height: interlacedSide, isProgressive: true },
    ],
    [
      `the widest 16-bit PNG taken at ${WIDE_HEIGHT} rows (${wideWidth} x ${WIDE_HEIGHT})`,
      () => blankPng(wideWidth, WIDE_HEIGHT, { bits: 16, interlaced: false }),
      { ...rgba16, width: wideWidth, height: WIDE_HEIGHT, isProgressive: false },
    ],
  ];

  it.each(worst)(`%s is decoded within what it reserves, at most ${IMAGE_MEMORY_BUDGET / MB} MB`, async (name, make, header) => {
    const reserved = decodeMemory(header);
    expect(reserved).toBeLessThanOrEqual(IMAGE_MEMORY_BUDGET);
    const growth = await peakGrowth(saved(`${name.length}.img`, await make()));
    expect({ name, mb: Math.round(growth / MB), withinReservation: growth <= reserved }).toEqual({ name, mb: expect.any(Number), withinReservation: true });
  }, 180_000);

  it(`keeps four uploads at once of the costliest image taken within ${IMAGE_MEMORY_BUDGET / MB} MB, nothing kept after each`, async () => {
    // They used to take 1.7 GB: two decoded at once, and what each decoded kept in libvips's cache.
    const growth = await peakGrowth(saved('four.gif', pixelBombGif(gifSide)), 4);
    expect(Math.round(growth / MB)).toBeLessThanOrEqual(IMAGE_MEMORY_BUDGET / MB);
  }, 180_000);
});
