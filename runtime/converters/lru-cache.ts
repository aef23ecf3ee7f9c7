/**
 * A bounded map that forgets the least recently used entry (Connect's LRUCache for schema caches). With `maxWeight`,
 * the entries' weights (given to set) are bounded too: an entry heavier than that alone is not kept.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private total = 0;
  constructor(
    private readonly capacity: number,
    private readonly maxWeight = Infinity,
  ) {}

  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (e !== undefined) {
      // Re-insert to mark as most recently used.
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    return e?.value;
  }

  set(key: K, value: V, weight = 0): void {
    this.remove(key);
    if (this.capacity <= 0 || weight > this.maxWeight) return;
    this.entries.set(key, { value, weight });
    this.total += weight;
    while (this.entries.size > this.capacity || this.total > this.maxWeight) {
      this.remove(this.entries.keys().next().value as K);
    }
  }

  private remove(key: K): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.total -= e.weight;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The sum of the entries' weights. */
  get weight(): number {
    return this.total;
  }
}
