// Layout geometry for 1..17 users in each mode: the numbers of the layouts as domain.md gives
// them, every tile inside the canvas, small tiles never overlapping.
import { describe, expect, test } from 'vitest';
import { layoutTiles, maxDrawnUsers, toPixels, type LayoutMode, type Tile } from '../../src/recording/layout.js';

const portrait = { width: 360, height: 640 };
const landscape = { width: 640, height: 360 };
const uids = (n: number) => Array.from({ length: n }, (_, i) => 100 + i);
const counts = Array.from({ length: 17 }, (_, i) => i + 1);
const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

const overlap = (a: Tile, b: Tile) => a.x < b.x + b.w - 1e-9 && b.x < a.x + a.w - 1e-9 && a.y < b.y + b.h - 1e-9 && b.y < a.y + a.h - 1e-9;

function expectInsideAndApart(tiles: Tile[], apart: Tile[]) {
  for (const t of tiles) {
    expect(t.x).toBeGreaterThanOrEqual(-1e-9);
    expect(t.y).toBeGreaterThanOrEqual(-1e-9);
    expect(t.x + t.w).toBeLessThanOrEqual(1 + 1e-9);
    expect(t.y + t.h).toBeLessThanOrEqual(1 + 1e-9);
  }
  for (const [i, a] of apart.entries()) for (const b of apart.slice(i + 1)) expect(overlap(a, b), `${a.uid} and ${b.uid}`).toBe(false);
}

describe.each([
  ['portrait', portrait],
  ['landscape', landscape],
])('on a %s canvas', (_name, canvas) => {
  describe.each([0, 1, 2] as LayoutMode[])('layout %i', (mode) => {
    test.each(counts)('%i users: one tile each, in join order, inside the canvas, apart', (n) => {
      const tiles = layoutTiles(mode, canvas, uids(n));
      expect(tiles.map((t) => t.uid)).toEqual(uids(n));
      // Floating draws the others over the first user's full-canvas video; they must not overlap each other.
      expectInsideAndApart(tiles, mode === 0 ? tiles.slice(1) : tiles);
    });
  });
});

describe('floating (0)', () => {
  test('the first user fills the canvas; the others are 0.235 wide at x = 0.012 + col·0.247, rows from the bottom', () => {
    const tiles = layoutTiles(0, portrait, uids(17));
    expect(tiles[0]).toMatchObject({ x: 0, y: 0, w: 1, h: 1, fit: 'crop' });
    const h = 0.235 * (360 / 640);
    const vgap = 0.012 * (360 / 640);
    tiles.slice(1).forEach((t, i) => {
      const col = i % 4;
      const row = Math.floor(i / 4);
      expect(close(t.x, 0.012 + col * 0.247), `x of ${i}`).toBe(true);
      expect(close(t.w, 0.235)).toBe(true);
      expect(close(t.h, h)).toBe(true);
      expect(close(t.y, 1 - (row + 1) * (h + vgap)), `y of ${i}`).toBe(true);
    });
  });

  test('tiles are square in pixels on a portrait canvas', () => {
    const small = toPixels(layoutTiles(0, portrait, uids(2))[1]!, portrait);
    expect(Math.abs(small.w - small.h)).toBeLessThanOrEqual(2);
  });

  test('on a canvas too wide for four rows of squares, four rows still fit', () => {
    const tiles = layoutTiles(0, landscape, uids(17));
    expect(Math.min(...tiles.map((t) => t.y))).toBeGreaterThanOrEqual(0);
  });
});

describe('best-fit (1)', () => {
  test.each([
    [1, 1, 1],
    [2, 0.5, 1],
    [3, 0.5, 0.5],
    [4, 0.5, 0.5],
    [5, 1 / 3, 1 / 3],
    [9, 1 / 3, 1 / 3],
    [10, 0.25, 0.25],
    [16, 0.25, 0.25],
  ])('%i users get cells %f wide and %f tall, row by row', (n, w, h) => {
    const tiles = layoutTiles(1, landscape, uids(n));
    for (const t of tiles) expect(close(t.w, w) && close(t.h, h)).toBe(true);
    // Row by row, left to right.
    const order = [...tiles].sort((a, b) => a.y - b.y || a.x - b.x).map((t) => t.uid);
    expect(order).toEqual(uids(n));
  });

  test('17 users: 0.2 cells, four a row from x = 0.1, the 17th centred on the last row', () => {
    const tiles = layoutTiles(1, landscape, uids(17));
    tiles.slice(0, 16).forEach((t, i) => {
      expect(close(t.x, 0.1 + (i % 4) * 0.2) && close(t.y, Math.floor(i / 4) * 0.2)).toBe(true);
      expect(close(t.w, 0.2) && close(t.h, 0.2)).toBe(true);
    });
    expect(tiles[16]).toMatchObject({ x: 0.4, y: 0.8, w: 0.2, h: 0.2 });
  });
});

describe('vertical (2)', () => {
  test.each([
    [2, 0.8, 0.8, 0.2, 0.25],
    [5, 0.8, 0.8, 0.2, 0.25],
    [6, 6 / 7, 6 / 7, 1 / 7, 1 / 6],
    [7, 6 / 7, 6 / 7, 1 / 7, 1 / 6],
    [8, 8 / 9, 8 / 9, 1 / 9, 1 / 8],
    [9, 8 / 9, 8 / 9, 1 / 9, 1 / 8],
  ])('%i users: the large one %f wide, the others at x %f, %f × %f, top down', (n, largeW, x, w, h) => {
    const [large, ...small] = layoutTiles(2, portrait, uids(n));
    expect(large).toMatchObject({ uid: 100, x: 0, y: 0, h: 1, fit: 'fit' });
    expect(close(large!.w, largeW)).toBe(true);
    small.forEach((t, i) => expect(close(t.x, x) && close(t.w, w) && close(t.h, h) && close(t.y, i * h)).toBe(true));
  });

  test('10 to 17 users: two columns of eight at x 0.8 and 0.9', () => {
    const [large, ...small] = layoutTiles(2, portrait, uids(17));
    expect(close(large!.w, 0.8)).toBe(true);
    small.forEach((t, i) => {
      expect(close(t.x, i < 8 ? 0.8 : 0.9)).toBe(true);
      expect(close(t.y, (i % 8) / 8) && close(t.w, 0.1) && close(t.h, 1 / 8)).toBe(true);
    });
  });

  test('the large user is the one named, wherever it joined', () => {
    const tiles = layoutTiles(2, portrait, uids(4), 102);
    expect(tiles[0]).toMatchObject({ uid: 102, w: 0.8, fit: 'fit' });
    expect(tiles.slice(1).map((t) => t.uid)).toEqual([100, 101, 103]);
  });

  test('when the named large user is absent, the large area stays empty and everyone is small', () => {
    const tiles = layoutTiles(2, portrait, uids(3), 999);
    expect(tiles.map((t) => t.uid)).toEqual(uids(3));
    expect(tiles.every((t) => close(t.x, 0.8))).toBe(true);
  });
});

test('users beyond 17 are not drawn, in any mode', () => {
  for (const mode of [0, 1, 2] as LayoutMode[]) {
    expect(layoutTiles(mode, portrait, uids(25)).map((t) => t.uid)).toEqual(uids(maxDrawnUsers));
  }
});

test('pixel tiles are even, at least 2×2, and inside the canvas', () => {
  for (const mode of [0, 1, 2] as LayoutMode[]) {
    for (const n of counts) {
      for (const tile of layoutTiles(mode, { width: 322, height: 182 }, uids(n))) {
        const p = toPixels(tile, { width: 322, height: 182 });
        for (const v of [p.x, p.y, p.w, p.h]) expect(v % 2).toBe(0);
        expect(p.w).toBeGreaterThanOrEqual(2);
        expect(p.x + p.w).toBeLessThanOrEqual(322);
        expect(p.y + p.h).toBeLessThanOrEqual(182);
      }
    }
  }
});
