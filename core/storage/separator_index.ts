// A table's index in memory: the separator of each data block (an internal
// key, user key and seq, at or after the block's last entry and before the
// next block's first), searched for the block a key would be in.
//
// The separators of one table often share a long prefix (the replica records
// of a keyspace all start with the same bytes), and each separator is its own
// small array, so a plain binary search compares that prefix byte by byte and
// touches a different object at every step. Each separator therefore also has
// the 4 bytes after the prefix all of them share as one number, in one
// Uint32Array: most steps compare two numbers, and only a tie looks at keys.

import { assert } from '../../io/assert.ts';
import { compareInternal, prefixWord } from './entry.ts';

export class SeparatorIndex {
  /** Bytes every separator starts with. */
  private readonly prefixLength: number;
  /** Big-endian bytes [prefixLength, prefixLength + 4) of each separator, zero past its end. */
  private readonly words: Uint32Array;

  /** `keys` and `seqs` in internal order (the caller checks, a table's index may be corrupt). */
  constructor(
    private readonly keys: readonly Uint8Array[],
    private readonly seqs: readonly number[],
  ) {
    assert(keys.length === seqs.length, `${keys.length} separator keys, ${seqs.length} seqs`);
    const n = keys.length;
    // Sorted keys: what the first and last share, all share.
    this.prefixLength = n === 0 ? 0 : sharedPrefix(keys[0]!, keys[n - 1]!);
    this.words = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.words[i] = prefixWord(keys[i]!, this.prefixLength);
  }

  get length(): number {
    return this.keys.length;
  }

  /** The first separator >= (key, seq) in internal order, or length when none is. */
  find(key: Uint8Array, seq: number): number {
    const { keys, seqs, words } = this;
    const p = this.prefixLength;
    if (keys.length === 0) return 0;
    // Outside the shared prefix, the key is before or after every separator.
    const first = keys[0]!;
    const n = key.length < p ? key.length : p;
    for (let i = 0; i < n; i++) {
      if (key[i] !== first[i]) return key[i]! < first[i]! ? 0 : keys.length;
    }
    if (key.length < p) return 0; // a proper prefix of every separator
    const w = prefixWord(key, p);
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = words[mid]!;
      // Unequal words order their keys (a zero past the end only ties); equal ones need the keys.
      const before = m !== w ? m < w : compareInternal(keys[mid]!, seqs[mid]!, key, seq) < 0;
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function sharedPrefix(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
