import type { ReconcileClass } from '../../../runtime/api/index.js';
import { compareText } from '../entity-order.js';

/**
 * One side's claim about an (entity, target) pair: `[id, target, version, state]`, version as decimal text (null:
 * unknown). Arrays, because millions of them pass through the sorted runs as JSON lines.
 *
 * Origin states: `r` ready (the origin routes the entity to this target), `w` its registration is missing (it
 * should be nowhere: anything held is extra), `p` pending on a dependency that will be met (a phone whose person
 * is not delivered yet): whatever is held stays, nothing is missing. Ledger and destination entries use `h` (held);
 * a ledger target written ahead of a send that may still be in flight is `i` (ledger.ts intentStateOf): neither held
 * nor not held, so its pair is not compared at all.
 */
export type Entry = [id: string, target: string, version: string | null, state: 'r' | 'w' | 'p' | 'h' | 'i'];

export const compareEntries = (a: Entry, b: Entry): number => compareText(a[0], b[0]) || compareText(a[1], b[1]);

/** A difference found for one (id, target), before the report adds the connector's names. */
export interface Found {
  kind: ReconcileClass;
  entityId: string;
  target: string;
  originVersion: string | null;
  ledgerVersion: string | null;
  destinationVersion: string | null;
  shouldHold: boolean;
}

/** A sorted stream that can be peeked. */
class Cursor {
  private head: IteratorResult<Entry> | null = null;
  constructor(private readonly it: AsyncIterator<Entry>) {}
  async peek(): Promise<Entry | undefined> {
    this.head ??= await this.it.next();
    return this.head.done ? undefined : this.head.value;
  }
  /** Takes every entry of this id. */
  async take(id: string): Promise<Entry[]> {
    const out: Entry[] = [];
    for (let e = await this.peek(); e !== undefined && e[0] === id; e = await this.peek()) {
      out.push(e);
      this.head = null;
    }
    return out;
  }
}

export interface Group {
  id: string;
  origin: Entry[];
  ledger: Entry[];
  /** null when the destination is not read. */
  destination: Entry[] | null;
}

/** Merge-joins the sorted sides by id: one group per id any side knows. */
export async function* mergeById(
  origin: AsyncIterable<Entry>,
  ledger: AsyncIterable<Entry>,
  destination: AsyncIterable<Entry> | null,
): AsyncGenerator<Group> {
  const o = new Cursor(origin[Symbol.asyncIterator]());
  const l = new Cursor(ledger[Symbol.asyncIterator]());
  const d = destination ? new Cursor(destination[Symbol.asyncIterator]()) : null;
  for (;;) {
    const heads = [await o.peek(), await l.peek(), d ? await d.peek() : undefined].filter(
      (e): e is Entry => e !== undefined,
    );
    if (heads.length === 0) return;
    let id = heads[0]![0];
    for (const h of heads) if (compareText(h[0], id) < 0) id = h[0];
    yield { id, origin: await o.take(id), ledger: await l.take(id), destination: d ? await d.take(id) : null };
  }
}

const below = (a: string | null, b: string | null): boolean => a !== null && b !== null && BigInt(a) < BigInt(b);

/**
 * The differences of one id, per target:
 * - missing: the origin routes it here and the destination (or, unread, the ledger) does not hold it;
 * - stale: it is held at a version below the origin's (only with an origin version);
 * - extra: it is held where the origin does not route it (registration removed, origin row gone);
 * - drift: ledger and destination disagree (one holds it and the other not, or at another version).
 * A pair may be missing and drift at once (the ledger says delivered, the table lost the row). A ledger version -1
 * left by a send that never confirmed is a claim at an unknown version: drift against any destination version, stale
 * where the ledger stands for the destination, so a repair sends it again.
 */
export function classify(g: Group, versions: boolean): Found[] {
  const should = new Map<string, string | null>();
  let pending = false;
  for (const [, target, version, state] of g.origin) {
    if (state === 'p') pending = true;
    else if (state === 'r' && !should.has(target)) should.set(target, versions ? version : null);
  }
  const sending = new Set(g.ledger.filter((e) => e[3] === 'i').map((e) => e[1]));
  const ledger = new Map(g.ledger.map((e) => [e[1], e[2]] as const));
  const dest = g.destination ? new Map(g.destination.map((e) => [e[1], e[2]] as const)) : null;
  const targets = new Set([...should.keys(), ...ledger.keys(), ...(dest?.keys() ?? [])]);
  const out: Found[] = [];
  for (const target of [...targets].sort(compareText)) {
    // Its send is under way: the destination may or may not hold it yet, and the ledger will say which.
    if (sending.has(target)) continue;
    const shouldHold = should.has(target);
    const o = should.get(target) ?? null;
    const l = ledger.has(target) ? ledger.get(target)! : undefined;
    const d = dest ? (dest.has(target) ? dest.get(target)! : undefined) : undefined;
    const heldBy = dest ? dest.has(target) : ledger.has(target);
    const held = dest ? d : l;
    const f = (kind: ReconcileClass): Found => ({
      kind,
      entityId: g.id,
      target,
      originVersion: o,
      ledgerVersion: l ?? null,
      destinationVersion: d ?? null,
      shouldHold,
    });
    if (shouldHold) {
      if (!heldBy) out.push(f('missing'));
      else if (held === null || below(held ?? null, o)) {
        // A held row without a version (a NULL version column) counts as stale when the origin has one.
        if (o !== null) out.push(f('stale'));
      }
    } else if (heldBy && !pending) out.push(f('extra'));
    if (dest && (ledger.has(target) !== dest.has(target) || (l !== undefined && d !== undefined && l !== d))) {
      out.push(f('drift'));
    }
  }
  return out;
}
