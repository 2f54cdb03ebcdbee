import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryKind, MAX_SEQ, type Entry } from './entry.ts';
import { CorruptionError } from './errors.ts';
import { decodeWriteBatch, encodeWriteBatch, encodeWriteOps, writeBatchBytes, writeOpsBytes } from './write_batch.ts';
import { writeEntries, type WriteOp } from './write_request.ts';

const arbEntry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({
    key: fc.uint8Array({ maxLength: 40 }),
    seq: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: MAX_SEQ })),
    kind: fc.constant(EntryKind.Put),
    value: fc.uint8Array({ maxLength: 200 }),
    timeMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MAX_SEQ })),
  }),
  fc.record({
    key: fc.uint8Array({ maxLength: 40 }),
    seq: fc.integer({ min: 1, max: MAX_SEQ }),
    kind: fc.constant(EntryKind.Delete),
    value: fc.constant(new Uint8Array(0)),
    timeMs: fc.integer({ min: 0, max: 2 ** 45 }),
  }),
);

const plain = (entries: Entry[]) =>
  entries.map((e) => ({ ...e, key: Array.from(e.key), value: Array.from(e.value) }));

function expectCorruptionOrBatch(bytes: Uint8Array): Entry[] | undefined {
  try {
    return decodeWriteBatch(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(CorruptionError);
    return undefined;
  }
}

const arbOp: fc.Arbitrary<WriteOp> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.uint8Array({ minLength: 1, maxLength: 80 }), value: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({
    kind: fc.constant('put' as const),
    key: fc.uint8Array({ minLength: 1, maxLength: 20 }),
    value: fc.uint8Array({ maxLength: 20 }),
    ttlMs: fc.integer({ min: 1, max: 2 ** 40 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.uint8Array({ minLength: 1, maxLength: 80 }) }),
);

describe('write batch', () => {
  it('encodes a request straight from its operations exactly as it encodes their entries', () => {
    fc.assert(
      fc.property(
        fc.array(arbOp, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 2 ** 50 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: 0, max: 9 }),
        (ops, firstSeq, nowMs, at) => {
          const expected = writeEntries(ops, firstSeq, nowMs);
          const out = new Uint8Array(at + writeOpsBytes(ops, firstSeq, nowMs));
          encodeWriteOps(ops, firstSeq, nowMs, out, at);
          expect(Array.from(out.subarray(at))).toEqual(Array.from(encodeWriteBatch(expected)));
          expect(plain(decodeWriteBatch(out.subarray(at)))).toEqual(plain(expected));
        },
      ),
    );
  });


  it('round-trips any batch of valid entries', () => {
    fc.assert(
      fc.property(fc.array(arbEntry, { maxLength: 20 }), (entries) => {
        const bytes = encodeWriteBatch(entries);
        expect(bytes.length).toBe(writeBatchBytes(entries));
        expect(plain(decodeWriteBatch(bytes))).toEqual(plain(entries));
      }),
    );
  });

  it('encodes a known batch to the documented bytes', () => {
    const bytes = encodeWriteBatch([
      { key: new Uint8Array([7]), seq: 300, kind: EntryKind.Put, value: new Uint8Array([1, 2]), timeMs: 0 },
      { key: new Uint8Array([]), seq: 1, kind: EntryKind.Delete, value: new Uint8Array(0), timeMs: 128 },
    ]);
    // count=2 | seq=300 (0xac 0x02) kind=1 time=0 klen=1 key=7 vlen=2 value=1,2 | seq=1 kind=0 time=128 (0x80 0x01) klen=0 vlen=0
    expect(Array.from(bytes)).toEqual([2, 0xac, 0x02, 1, 0, 1, 7, 2, 1, 2, 1, 0, 0x80, 0x01, 0, 0]);
  });

  it('throws nothing but CorruptionError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expectCorruptionOrBatch(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it('throws nothing but CorruptionError on mutated valid batches, and any batch it accepts re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.array(arbEntry, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (entries, edits, cut) => {
          const bytes = encodeWriteBatch(entries);
          for (const [pos, b] of edits) bytes[pos % bytes.length] = b;
          const truncated = bytes.subarray(0, cut % (bytes.length + 1));
          for (const candidate of [bytes, truncated]) {
            const decoded = expectCorruptionOrBatch(candidate);
            if (decoded !== undefined) expect(Array.from(encodeWriteBatch(decoded))).toEqual(Array.from(candidate));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('rejects every strict prefix and any trailing byte', () => {
    fc.assert(
      fc.property(fc.array(arbEntry, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 255 }), (entries, extra) => {
        const bytes = encodeWriteBatch(entries);
        for (let n = 0; n < bytes.length; n++) {
          expect(() => decodeWriteBatch(bytes.subarray(0, n))).toThrow(CorruptionError);
        }
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        longer[bytes.length] = extra;
        expect(() => decodeWriteBatch(longer)).toThrow(CorruptionError);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects specific invalid fields', () => {
    const bad: [string, number[]][] = [
      ['seq 0', [1, 0, 1, 0, 0, 0]],
      ['unknown kind', [1, 1, 2, 0, 0, 0]],
      ['delete with a value', [1, 1, 0, 0, 0, 1, 9]],
      ['over-long varint', [1, 0x81, 0x00, 1, 0, 0, 0]],
      ['seq above 2^53 - 1', [1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 0, 0, 0]],
      ['count larger than the bytes allow', [0xff, 0xff, 0x03, 1, 1, 0, 0, 0]],
      ['key overruns', [1, 1, 1, 0, 5, 1, 2]],
    ];
    for (const [, bytes] of bad) expect(() => decodeWriteBatch(new Uint8Array(bytes))).toThrow(CorruptionError);
    // The largest seq still decodes: the bound above is exact.
    const max = encodeWriteBatch([{ key: new Uint8Array(0), seq: MAX_SEQ, kind: EntryKind.Put, value: new Uint8Array(0), timeMs: 0 }]);
    expect(decodeWriteBatch(max)[0]!.seq).toBe(MAX_SEQ);
  });
});
