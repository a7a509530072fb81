// Where each user's video goes on the composite canvas: a pure function of the layout mode, the
// canvas and the users in join order (docs: ../shared domain facts, restated in README.md here).
// Coordinates are fractions of the canvas, origin top-left.

/** layout_mode: 0 floating, 1 best-fit, 2 vertical. */
export type LayoutMode = 0 | 1 | 2;

/** One user's rectangle; `fit` says how the video fills it. */
export interface Tile {
  uid: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** `crop`: fill the tile, cutting the overflow; `fit`: all of the video, letterboxed. */
  fit: 'crop' | 'fit';
}

/** A tile in pixels, every value even (what yuv420p video needs). */
export interface PixelTile extends Omit<Tile, 'x' | 'y' | 'w' | 'h'> {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** At most this many users are drawn; the others are only heard. */
export const maxDrawnUsers = 17;

const floating = { tileW: 0.235, gap: 0.012, perRow: 4, rows: 4 };

function floatingLayout(canvas: { width: number; height: number }, uids: number[]): Tile[] {
  const [first, ...others] = uids;
  if (first === undefined) return [];
  const ratio = canvas.width / canvas.height;
  const vgap = floating.gap * ratio;
  // Square in pixels; on a canvas too wide for four rows of squares, as tall as four rows allow.
  const h = Math.min(floating.tileW * ratio, (1 - floating.rows * vgap) / floating.rows);
  return [
    { uid: first, x: 0, y: 0, w: 1, h: 1, fit: 'crop' },
    ...others.map((uid, i): Tile => {
      const col = i % floating.perRow;
      const row = Math.floor(i / floating.perRow);
      return {
        uid,
        x: floating.gap + col * (floating.tileW + floating.gap),
        y: 1 - (row + 1) * (h + vgap),
        w: floating.tileW,
        h,
        fit: 'crop',
      };
    }),
  ];
}

function bestFitLayout(uids: number[]): Tile[] {
  const n = uids.length;
  if (n === 17) {
    return uids.map((uid, i) => ({
      uid,
      x: i === 16 ? 0.4 : 0.1 + (i % 4) * 0.2,
      y: Math.floor(i / 4) * 0.2,
      w: 0.2,
      h: 0.2,
      fit: 'crop',
    }));
  }
  if (n === 2) return uids.map((uid, i) => ({ uid, x: i * 0.5, y: 0, w: 0.5, h: 1, fit: 'crop' }));
  const side = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
  return uids.map((uid, i) => ({ uid, x: (i % side) / side, y: Math.floor(i / side) / side, w: 1 / side, h: 1 / side, fit: 'crop' }));
}

/** The vertical layout's columns by number of users (the large one counted). */
function verticalColumns(users: number): { largeW: number; columns: number[]; w: number; h: number } {
  if (users <= 5) return { largeW: 0.8, columns: [0.8], w: 0.2, h: 0.25 };
  if (users <= 7) return { largeW: 6 / 7, columns: [6 / 7], w: 1 / 7, h: 1 / 6 };
  if (users <= 9) return { largeW: 8 / 9, columns: [8 / 9], w: 1 / 9, h: 1 / 8 };
  return { largeW: 0.8, columns: [0.8, 0.9], w: 0.1, h: 1 / 8 };
}

function verticalLayout(uids: number[], largeUid: number | undefined): Tile[] {
  if (uids.length === 0) return [];
  const large = largeUid ?? uids[0]!;
  const present = uids.includes(large);
  const small = uids.filter((uid) => uid !== large);
  // An absent large user still takes its place: the large area shows the background.
  const { largeW, columns, w, h } = verticalColumns(small.length + 1);
  const perColumn = Math.round(1 / h);
  const tiles: Tile[] = present ? [{ uid: large, x: 0, y: 0, w: largeW, h: 1, fit: 'fit' }] : [];
  small.slice(0, perColumn * columns.length).forEach((uid, i) => {
    tiles.push({ uid, x: columns[Math.floor(i / perColumn)]!, y: (i % perColumn) * h, w, h, fit: 'crop' });
  });
  return tiles;
}

/** The tiles of the users drawn (the first 17 to join), for a layout mode and canvas. */
export function layoutTiles(mode: LayoutMode, canvas: { width: number; height: number }, uids: number[], largeUid?: number): Tile[] {
  const drawn = uids.slice(0, maxDrawnUsers);
  if (mode === 0) return floatingLayout(canvas, drawn);
  if (mode === 1) return bestFitLayout(drawn);
  return verticalLayout(drawn, largeUid);
}

const even = (n: number) => Math.max(0, Math.round(n / 2) * 2);

/** The tile in whole, even pixels, inside the canvas and at least 2×2. */
export function toPixels(tile: Tile, canvas: { width: number; height: number }): PixelTile {
  const x = Math.min(even(tile.x * canvas.width), canvas.width - 2);
  const y = Math.min(even(tile.y * canvas.height), canvas.height - 2);
  const right = Math.min(even((tile.x + tile.w) * canvas.width), canvas.width);
  const bottom = Math.min(even((tile.y + tile.h) * canvas.height), canvas.height);
  return { uid: tile.uid, fit: tile.fit, x, y, w: Math.max(2, right - x), h: Math.max(2, bottom - y) };
}
