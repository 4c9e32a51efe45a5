/** A request the mirror could not serve. `seq` counts every miss since the mirror started, kept or not. */
export interface Miss {
  seq: number;
  time: string;
  method: string;
  path: string;
  client: string;
  reason: string;
}

/**
 * The latest misses, at most `max` of them: a client asking for missing paths in a loop costs a fixed amount of
 * memory. Each miss keeps its sequence number, so a reader that remembers the last one it saw can tell how many it
 * missed since (`total`), even when older ones were dropped.
 */
export class MissList {
  private kept: Miss[] = [];
  private count = 0;

  constructor(readonly max: number) {}

  add(miss: Omit<Miss, 'seq'>): Miss {
    const entry = { seq: ++this.count, ...miss };
    this.kept.push(entry);
    if (this.kept.length > this.max) this.kept.splice(0, this.kept.length - this.max);
    return entry;
  }

  /** Every miss since the mirror started, including those no longer kept. */
  get total(): number {
    return this.count;
  }

  /** The kept misses after sequence number `seq` (all of them for 0), oldest first. */
  since(seq = 0): Miss[] {
    return this.kept.filter((m) => m.seq > seq);
  }
}
