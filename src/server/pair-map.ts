// A map keyed by a pair of strings, held as a map of maps: two different pairs never share a key,
// whatever characters the strings hold (a joined "a\0b" key let ("x\0y", "z") meet ("x", "y\0z")).

export class PairMap<V> {
  #outer = new Map<string, Map<string, V>>();

  get(a: string, b: string): V | undefined {
    return this.#outer.get(a)?.get(b);
  }

  set(a: string, b: string, value: V): this {
    let inner = this.#outer.get(a);
    if (!inner) this.#outer.set(a, (inner = new Map()));
    inner.set(b, value);
    return this;
  }

  delete(a: string, b: string): boolean {
    const inner = this.#outer.get(a);
    if (!inner?.delete(b)) return false;
    // No empty inner map is kept: the size stays that of the entries.
    if (inner.size === 0) this.#outer.delete(a);
    return true;
  }

  clear(): void {
    this.#outer.clear();
  }

  *entries(): IterableIterator<[string, string, V]> {
    for (const [a, inner] of this.#outer) for (const [b, value] of inner) yield [a, b, value];
  }
}
