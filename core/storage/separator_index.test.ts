import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareInternal } from './entry.ts';
import { SeparatorIndex } from './separator_index.ts';

/** The model: a linear walk for the first separator >= (key, seq). */
function linearFind(keys: Uint8Array[], seqs: number[], key: Uint8Array, seq: number): number {
  let i = 0;
  while (i < keys.length && compareInternal(keys[i]!, seqs[i]!, key, seq) < 0) i++;
  return i;
}

// Few byte values (zero among them, which pads a word as the end of a key
// does) and a shared head, so ties, prefixes and long shared prefixes are common.
const byteValue = fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xff);
const tail = fc.array(byteValue, { maxLength: 9 });
const internalKey = (head: number[]) => fc.record({ key: tail.map((t) => Uint8Array.from([...head, ...t])), seq: fc.nat({ max: 3 }) });

function sortedIndex(entries: Array<{ key: Uint8Array; seq: number }>) {
  const sorted = [...entries].sort((a, b) => compareInternal(a.key, a.seq, b.key, b.seq));
  const unique = sorted.filter((e, i) => i === 0 || compareInternal(sorted[i - 1]!.key, sorted[i - 1]!.seq, e.key, e.seq) !== 0);
  return { keys: unique.map((e) => e.key), seqs: unique.map((e) => e.seq) };
}

describe('SeparatorIndex', () => {
  it('finds what a linear walk finds, for separators with a shared prefix and probes anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(byteValue, { maxLength: 12 }).chain((head) =>
          fc.tuple(fc.array(internalKey(head), { maxLength: 40 }), fc.array(fc.oneof(internalKey(head), internalKey(head.slice(0, head.length >> 1)), internalKey([])), { minLength: 1, maxLength: 20 })),
        ),
        ([entries, probes]) => {
          const { keys, seqs } = sortedIndex(entries);
          const index = new SeparatorIndex(keys, seqs);
          expect(index.length).toBe(keys.length);
          for (const p of [...probes, ...entries]) expect(index.find(p.key, p.seq)).toBe(linearFind(keys, seqs, p.key, p.seq));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('places keys outside the shared prefix before or after every separator', () => {
    const b = (...x: number[]) => Uint8Array.from(x);
    const keys = [b(1, 7, 7, 0), b(1, 7, 7, 5), b(1, 7, 9)];
    const index = new SeparatorIndex(keys, [0, 0, 0]);
    expect(index.find(b(1, 6, 255), 0)).toBe(0);
    expect(index.find(b(1), 0)).toBe(0); // a proper prefix of them all
    expect(index.find(b(1, 8), 0)).toBe(3);
    expect(index.find(b(1, 7, 7), 0)).toBe(0); // ends where the first has a zero: still before it
    expect(index.find(b(1, 7, 7, 0), 0)).toBe(0);
    expect(index.find(b(1, 7, 7, 1), 0)).toBe(1);
    expect(new SeparatorIndex([], []).find(b(1), 0)).toBe(0);
  });
});
