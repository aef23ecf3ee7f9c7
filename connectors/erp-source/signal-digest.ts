import { createHash } from 'node:crypto';

/**
 * A fixed-size summary of the set of signal ids already acted on, stored in the offsets instead of the ids.
 *
 * Why not a high-water id: signal ids are free text chosen by whoever inserts the row (Debezium's shape, e.g.
 * 'sig-9' then 'sig-10', or UUIDs) and the table has no column that orders arrival, so no id bounds what is new.
 * Instead the offset carries an invertible Bloom lookup table (IBLT) of the ids: on restart the task builds the
 * same table over the ids it reads now, subtracts the stored one and peels the difference, which yields exactly
 * the ids added (and removed) since the stored read — as long as the difference is small (up to about ten rows,
 * e.g. signals acted on but not yet flushed, or inserted/deleted while the task was down). The size is constant
 * (CELLS cells) whatever the number of rows in the signal table.
 */

/** Cells per hash function; each id lands in one cell of each of the HASHES sub-tables. */
const PER_HASH = 10;
const HASHES = 3;
export const DIGEST_CELLS = PER_HASH * HASHES;

/** One stored cell: `count.keyXorHex.checkXorHex`, or '' when empty (keeps the JSON small). */
export interface SignalDigest {
  /** Format version of the cells. */
  v: 1;
  cells: string[];
}

interface Cell {
  n: number;
  key: bigint;
  check: number;
}

interface IdHash {
  key: bigint;
  check: number;
}

function hashId(id: string): IdHash {
  const h = createHash('sha256').update(id, 'utf8').digest();
  const key = h.readBigUInt64BE(0);
  return { key, check: checkOf(key) };
}

/** The purity check of a cell is a function of its key alone, so a peeled key can be verified. */
function checkOf(key: bigint): number {
  return Number(((key * 0x9e3779b97f4a7c15n) >> 32n) & 0xffffffffn);
}

function positions(key: bigint): number[] {
  const out: number[] = [];
  for (let j = 0; j < HASHES; j++)
    out.push(j * PER_HASH + Number(((key >> BigInt(20 * j)) & 0xfffffn) % BigInt(PER_HASH)));
  return out;
}

function emptyCells(): Cell[] {
  return Array.from({ length: DIGEST_CELLS }, () => ({ n: 0, key: 0n, check: 0 }));
}

function add(cells: Cell[], h: IdHash, sign: 1 | -1): void {
  for (const p of positions(h.key)) {
    const c = cells[p]!;
    c.n += sign;
    c.key ^= h.key;
    c.check = (c.check ^ h.check) >>> 0;
  }
}

function build(ids: Iterable<string>): Cell[] {
  const cells = emptyCells();
  for (const id of ids) add(cells, hashId(id), 1);
  return cells;
}

/** The digest of a set of ids (order does not matter). */
export function digestOf(ids: Iterable<string>): SignalDigest {
  return {
    v: 1,
    cells: build(ids).map((c) =>
      c.n === 0 && c.key === 0n && c.check === 0 ? '' : `${c.n}.${c.key.toString(16)}.${c.check.toString(16)}`,
    ),
  };
}

export function isSignalDigest(v: unknown): v is SignalDigest {
  if (!v || typeof v !== 'object') return false;
  const d = v as Partial<SignalDigest>;
  return (
    d.v === 1 &&
    Array.isArray(d.cells) &&
    d.cells.length === DIGEST_CELLS &&
    d.cells.every((c) => typeof c === 'string')
  );
}

function parseCells(d: SignalDigest): Cell[] | null {
  const out: Cell[] = [];
  for (const s of d.cells) {
    if (s === '') {
      out.push({ n: 0, key: 0n, check: 0 });
      continue;
    }
    const m = /^(-?\d+)\.([0-9a-f]{1,16})\.([0-9a-f]{1,8})$/.exec(s);
    if (!m) return null;
    out.push({ n: Number(m[1]), key: BigInt(`0x${m[2]}`), check: parseInt(m[3]!, 16) });
  }
  return out;
}

/**
 * Which of `present` (the ids in the signal table now) are not in the set `stored` summarizes: the new ones.
 * null when the difference is too large (or the digest corrupt) to decode; the caller then decides what to do.
 */
export function newSince(stored: SignalDigest, present: readonly string[]): Set<string> | null {
  const old = parseCells(stored);
  if (!old) return null;
  const byKey = new Map<bigint, string>();
  const cells = emptyCells();
  for (const id of present) {
    const h = hashId(id);
    byKey.set(h.key, id);
    add(cells, h, 1);
  }
  // The difference now − stored: +1 cells hold ids added since, −1 cells ids removed since.
  for (let i = 0; i < DIGEST_CELLS; i++) {
    const c = cells[i]!;
    const o = old[i]!;
    c.n -= o.n;
    c.key ^= o.key;
    c.check = (c.check ^ o.check) >>> 0;
  }
  const added = new Set<string>();
  for (let progress = true; progress;) {
    progress = false;
    for (const c of cells) {
      if ((c.n !== 1 && c.n !== -1) || c.check !== checkOf(c.key)) continue;
      const sign = c.n as 1 | -1;
      const key = c.key;
      if (sign === 1) {
        const id = byKey.get(key);
        if (id === undefined) return null; // a pure cell naming an id not in the table: not a real difference
        added.add(id);
      }
      add(cells, { key, check: checkOf(key) }, sign === 1 ? -1 : 1);
      progress = true;
    }
  }
  return cells.every((c) => c.n === 0 && c.key === 0n && c.check === 0) ? added : null;
}
