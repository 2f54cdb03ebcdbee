import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../io/clock.ts';
import { EMPTY_CONTEXT, type DvvSet, emptyDvv, join, siblingCount, sync, update } from './dotted_version_vector.ts';
import { decodeContext, encodeContext } from './dvv_codec.ts';
import { ConflictModeMismatchError, VersionFormatError } from './errors.ts';
import { type Hlc, HybridLogicalClock, MAX_LOGICAL } from './hlc.ts';
import {
  ModeTag,
  type VersionedValue,
  type Write,
  collapseSiblings,
  decodeVersionedValue,
  decodeVersionedValueAt,
  deletionTimeMs,
  encodeVersionedValue,
  mergeLww,
  mergeVersionedValues,
  readVersionedValue,
  tombstoneWrite,
  valueWrite,
  writeSiblings,
} from './versioned_value.ts';

class ManualClock implements Clock {
  constructor(public wall: number) {}
  monotonicMs(): number {
    return 0;
  }
  wallMs(): number {
    return this.wall;
  }
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const hlc = (wallMs: number, nodeId = 'n1', logical = 0): Hlc => ({ wallMs, logical, nodeId });

// Few distinct HLCs, so that equal timestamps with different contents occur.
const hlcArb: fc.Arbitrary<Hlc> = fc.record({
  wallMs: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.maxSafeNat()),
  logical: fc.oneof(fc.integer({ min: 0, max: 1 }), fc.constant(MAX_LOGICAL)),
  nodeId: fc.constantFrom('n1', 'n2', '\u{1f600}'),
});
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  fc.record({ hlc: hlcArb, bytes: fc.uint8Array({ maxLength: 3 }), expiresAtMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.maxSafeNat()) }).map(
    (w) => valueWrite(w.hlc, w.bytes, w.expiresAtMs),
  ),
  hlcArb.map(tombstoneWrite),
);

// Siblings-mode states from random writes (values and deletes, with and without contexts) and syncs over three replicas.
const dvvArb: fc.Arbitrary<DvvSet<Write>[]> = fc
  .array(fc.record({ coordinator: fc.nat(2), withContext: fc.boolean(), tombstone: fc.boolean(), syncFrom: fc.option(fc.nat(2)) }), { maxLength: 20 })
  .map((steps) => {
    const states = [0, 1, 2].map(() => emptyDvv<Write>());
    const pool: DvvSet<Write>[] = [emptyDvv<Write>()];
    steps.forEach((s, i) => {
      const c = s.coordinator;
      const w = s.tombstone ? tombstoneWrite(hlc(i + 1, `r${c}`)) : valueWrite(hlc(i + 1, `r${c}`), Uint8Array.of(i));
      states[c] = update(states[c]!, s.withContext ? join(states[c]!) : EMPTY_CONTEXT, w, `r${c}`);
      if (s.syncFrom !== null) states[c] = sync(states[c]!, states[s.syncFrom]!);
      pool.push(states[c]!);
    });
    return pool;
  });

const versionedArb: fc.Arbitrary<VersionedValue> = fc.oneof(
  writeArb.map((write): VersionedValue => ({ mode: 'lww', write })),
  fc.tuple(dvvArb, fc.nat()).map(([pool, i]): VersionedValue => ({ mode: 'siblings', dvv: pool[i % pool.length]! })),
);

describe('versioned value encoding', () => {
  it('round-trips both modes, tagged by the first byte', () => {
    fc.assert(
      fc.property(versionedArb, (v) => {
        const bytes = encodeVersionedValue(v);
        expect(bytes[0]).toBe(v.mode === 'lww' ? ModeTag.Lww : ModeTag.Siblings);
        expect(decodeVersionedValue(bytes)).toEqual(v);
      }),
    );
  });

  it('hands back plain Uint8Array views of the value bytes', () => {
    const lww = decodeVersionedValue(encodeVersionedValue({ mode: 'lww', write: valueWrite(hlc(1), text('x')) }));
    const sib = decodeVersionedValue(encodeVersionedValue(writeSiblings(null, EMPTY_CONTEXT, valueWrite(hlc(1), text('y')), 'r0')));
    for (const v of [lww, sib]) {
      const [bytes] = readVersionedValue(v, 0).values;
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    }
  });

  it('decodes in place from a range of a larger buffer as from a copy of that range', () => {
    fc.assert(
      fc.property(versionedArb, fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (v, before, after) => {
        const bytes = encodeVersionedValue(v);
        const framed = Uint8Array.from([...before, ...bytes, ...after]);
        expect(decodeVersionedValueAt(framed, before.length, before.length + bytes.length)).toEqual(decodeVersionedValue(bytes.slice()));
      }),
    );
  });

  it('refuses damaged bytes with a VersionFormatError and nothing else', () => {
    expect(() => decodeVersionedValue(new Uint8Array(0))).toThrow(VersionFormatError);
    expect(() => decodeVersionedValue(Uint8Array.of(9, 1, 2))).toThrow(VersionFormatError);
    const tomb = encodeVersionedValue({ mode: 'lww', write: tombstoneWrite(hlc(5)) });
    expect(() => decodeVersionedValue(Uint8Array.from([...tomb, 1]))).toThrow(VersionFormatError);
    fc.assert(
      fc.property(versionedArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, at, byte) => {
        const bytes = encodeVersionedValue(v);
        const damaged = bytes.slice();
        damaged[at % damaged.length] = byte;
        for (const candidate of [damaged, bytes.subarray(0, at % bytes.length)]) {
          try {
            decodeVersionedValue(candidate);
          } catch (err) {
            expect(err).toBeInstanceOf(VersionFormatError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('lww merge', () => {
  it('is commutative, associative and idempotent, also on equal timestamps', () => {
    fc.assert(
      fc.property(writeArb, writeArb, writeArb, (a, b, c) => {
        expect(mergeLww(a, a)).toBe(a);
        expect(mergeLww(a, b)).toEqual(mergeLww(b, a));
        expect(mergeLww(mergeLww(a, b), c)).toEqual(mergeLww(a, mergeLww(b, c)));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the higher HLC, node id breaking a tie, a tombstone beating a value on an equal HLC', () => {
    expect(mergeLww(valueWrite(hlc(5), text('old')), valueWrite(hlc(6), text('new')))).toEqual(valueWrite(hlc(6), text('new')));
    expect(mergeLww(valueWrite(hlc(5, 'b'), text('b')), valueWrite(hlc(5, 'a'), text('a')))).toEqual(valueWrite(hlc(5, 'b'), text('b')));
    expect(mergeLww(valueWrite(hlc(5), text('v')), tombstoneWrite(hlc(5)))).toEqual(tombstoneWrite(hlc(5)));
  });

  it('loses a later write from a node whose clock is behind (the LWW contract under skew)', () => {
    // Node a's clock runs 10 s fast; b's is right. In real time a writes at 1 s and b at 2 s.
    const aClock = new ManualClock(11_000);
    const bClock = new ManualClock(2_000);
    const a = new HybridLogicalClock(aClock, 'a', { maxSkewMs: 500 });
    const b = new HybridLogicalClock(bClock, 'b', { maxSkewMs: 500 });
    const first = valueWrite(a.now(), text('first'));
    const second = valueWrite(b.now(), text('second'));
    const stored = mergeVersionedValues({ mode: 'lww', write: first }, { mode: 'lww', write: second });
    expect(readVersionedValue(stored, 2_000).values).toEqual([text('first')]); // the later write is gone
    // The skew bound lets b notice: a's timestamp is refused rather than adopted.
    expect(b.update(first.hlc)).toEqual({ accepted: false, aheadByMs: 9_000 });
  });

  it('keeps a causally later write even from a slower clock once the HLCs have met', () => {
    const a = new HybridLogicalClock(new ManualClock(2_300), 'a', { maxSkewMs: 500 });
    const b = new HybridLogicalClock(new ManualClock(2_000), 'b', { maxSkewMs: 500 });
    const first = valueWrite(a.now(), text('first'));
    expect(b.update(first.hlc).accepted).toBe(true); // b reads a's write before writing
    const second = valueWrite(b.now(), text('second'));
    const stored = mergeVersionedValues({ mode: 'lww', write: first }, { mode: 'lww', write: second });
    expect(readVersionedValue(stored, 2_000).values).toEqual([text('second')]);
  });
});

describe('versioned value merge', () => {
  it('is commutative, associative and idempotent in siblings mode', () => {
    fc.assert(
      fc.property(dvvArb, fc.nat(), fc.nat(), fc.nat(), (pool, i, j, k) => {
        const v = (n: number): VersionedValue => ({ mode: 'siblings', dvv: pool[n % pool.length]! });
        const [a, b, c] = [v(i), v(j), v(k)];
        expect(mergeVersionedValues(a, a)).toEqual(a);
        expect(mergeVersionedValues(a, b)).toEqual(mergeVersionedValues(b, a));
        expect(mergeVersionedValues(mergeVersionedValues(a, b), c)).toEqual(mergeVersionedValues(a, mergeVersionedValues(b, c)));
      }),
      { numRuns: 300 },
    );
  });

  it('stays commutative when a dot was reused for different writes (a coordinator that lost unsynced writes)', () => {
    const before = writeSiblings(null, EMPTY_CONTEXT, valueWrite(hlc(10, 'r0'), text('lost')), 'r0');
    const after = writeSiblings(null, EMPTY_CONTEXT, valueWrite(hlc(12, 'r0'), text('reissued')), 'r0');
    expect(mergeVersionedValues(before, after)).toEqual(mergeVersionedValues(after, before));
    expect(readVersionedValue(mergeVersionedValues(before, after), 0).values).toEqual([text('reissued')]);
  });

  it('refuses to merge versions of different modes', () => {
    const lww: VersionedValue = { mode: 'lww', write: valueWrite(hlc(1), text('x')) };
    const sib = writeSiblings(null, EMPTY_CONTEXT, valueWrite(hlc(1), text('x')), 'r0');
    expect(() => mergeVersionedValues(lww, sib)).toThrow(ConflictModeMismatchError);
    expect(() => writeSiblings(lww, EMPTY_CONTEXT, valueWrite(hlc(2), text('y')), 'r0')).toThrow(ConflictModeMismatchError);
  });
});

describe('reads, tombstones and expiry', () => {
  it('an lww tombstone reads as missing and dates the deletion', () => {
    const v = mergeVersionedValues({ mode: 'lww', write: valueWrite(hlc(100), text('v')) }, { mode: 'lww', write: tombstoneWrite(hlc(200)) });
    expect(readVersionedValue(v, 300)).toEqual({ values: [], context: null, siblingCount: 1 });
    expect(deletionTimeMs(v, 300)).toBe(200);
  });

  it('a delete with a read’s context removes what was read; the key reads as missing but keeps its context', () => {
    let replica = writeSiblings(null, EMPTY_CONTEXT, valueWrite(hlc(1, 'r0'), text('a')), 'r0');
    replica = writeSiblings(replica, EMPTY_CONTEXT, valueWrite(hlc(2, 'r1'), text('b')), 'r1');
    const read = readVersionedValue(replica, 10);
    expect(read.values).toEqual([text('a'), text('b')]);
    const context = decodeContext(encodeContext(read.context!)); // through the client and back
    replica = writeSiblings(replica, context, tombstoneWrite(hlc(3, 'r0')), 'r0');
    const afterDelete = readVersionedValue(replica, 10);
    expect(afterDelete.values).toEqual([]);
    expect(afterDelete.siblingCount).toBe(1);
    expect(afterDelete.context).toEqual(join((replica as { dvv: DvvSet<Write> }).dvv));
    expect(deletionTimeMs(replica, 10)).toBe(3);
    // Writing with the context of the missing read replaces the tombstone.
    replica = writeSiblings(replica, afterDelete.context!, valueWrite(hlc(4, 'r0'), text('c')), 'r0');
    expect(readVersionedValue(replica, 10)).toMatchObject({ values: [text('c')], siblingCount: 1 });
    expect(deletionTimeMs(replica, 10)).toBeNull();
  });

  it('a write concurrent with a delete survives it', () => {
    const base = writeSiblings(null, EMPTY_CONTEXT, valueWrite(hlc(1, 'r0'), text('a')), 'r0');
    const deleted = writeSiblings(base, readVersionedValue(base, 0).context!, tombstoneWrite(hlc(5, 'r0')), 'r0');
    const concurrent = writeSiblings(base, EMPTY_CONTEXT, valueWrite(hlc(2, 'r1'), text('b')), 'r1');
    const merged = mergeVersionedValues(deleted, concurrent);
    expect(readVersionedValue(merged, 0).values).toEqual([text('b')]);
    expect(siblingCount((merged as { dvv: DvvSet<Write> }).dvv)).toBe(2);
    expect(deletionTimeMs(merged, 0)).toBeNull();
    // Collapsing keeps the highest HLC, here the tombstone.
    expect(readVersionedValue(collapseSiblings(merged), 0)).toMatchObject({ values: [], siblingCount: 1 });
  });

  it('an expired value reads as missing from its expiry on, in both modes', () => {
    const w = valueWrite(hlc(1), text('ttl'), 5_000);
    for (const v of [{ mode: 'lww', write: w } as VersionedValue, writeSiblings(null, EMPTY_CONTEXT, w, 'r0')]) {
      expect(readVersionedValue(v, 4_999).values).toEqual([text('ttl')]);
      expect(deletionTimeMs(v, 4_999)).toBeNull();
      expect(readVersionedValue(v, 5_000).values).toEqual([]);
      expect(deletionTimeMs(v, 5_000)).toBe(5_000);
    }
  });
});
