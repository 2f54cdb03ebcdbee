import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptionError } from './errors.ts';
import { decodeVersionEdit, encodeVersionEdit, NUM_LEVELS, type TableMeta, type VersionEdit } from './version_edit.ts';

const key = fc.uint8Array({ maxLength: 20 });
const seqNum = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 1 });
const level = fc.integer({ min: 0, max: NUM_LEVELS - 1 });

const tableMeta: fc.Arbitrary<TableMeta> = fc
  .record({
    fileNumber: fc.integer({ min: 1, max: 2 ** 40 }),
    fileBytes: fc.integer({ min: 1, max: 2 ** 40 }),
    entryCount: fc.integer({ min: 1, max: 1e9 }),
    tombstoneFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    keys: fc.tuple(key, key),
    seqs: fc.tuple(seqNum, seqNum),
  })
  .map(({ tombstoneFraction, keys, seqs, ...rest }) => {
    const [a, b] = Buffer.compare(Buffer.from(keys[0]), Buffer.from(keys[1])) <= 0 ? keys : [keys[1], keys[0]];
    return {
      ...rest,
      tombstoneCount: Math.floor(rest.entryCount * tombstoneFraction),
      smallestKey: a,
      largestKey: b,
      smallestSeq: Math.min(...seqs),
      largestSeq: Math.max(...seqs),
    };
  });

const edit: fc.Arbitrary<VersionEdit> = fc.record(
  {
    logNumber: fc.nat(),
    nextFileNumber: fc.nat(),
    lastSeq: fc.nat(),
    compactPointers: fc.array(fc.record({ level, key })),
    deletedTables: fc.array(fc.record({ level, fileNumber: fc.integer({ min: 1, max: 2 ** 40 }) })),
    addedTables: fc.array(fc.record({ level, table: tableMeta })),
  },
  { requiredKeys: [] },
);

/** Normalises empty lists, which the codec does not distinguish from absent ones. */
function norm(e: VersionEdit): VersionEdit {
  const out: VersionEdit = { ...e };
  for (const k of ['compactPointers', 'deletedTables', 'addedTables'] as const) if (out[k]?.length === 0) delete out[k];
  return out;
}

describe('version edit codec', () => {
  it('round-trips every edit', () => {
    fc.assert(
      fc.property(edit, (e) => {
        expect(norm(decodeVersionEdit(encodeVersionEdit(e)))).toEqual(norm(e));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects damaged bytes with CorruptionError, never another error', () => {
    fc.assert(
      fc.property(edit, fc.nat(), fc.integer({ min: 1, max: 255 }), (e, at, xor) => {
        const bytes = encodeVersionEdit(e);
        if (bytes.length === 0) return;
        const damaged = bytes.slice();
        damaged[at % bytes.length]! ^= xor;
        try {
          decodeVersionEdit(damaged);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptionError);
        }
        try {
          decodeVersionEdit(bytes.subarray(0, at % bytes.length));
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptionError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('rejects unknown tags, repeated scalars and bad levels', () => {
    expect(() => decodeVersionEdit(new Uint8Array([99, 1]))).toThrow(CorruptionError);
    expect(() => decodeVersionEdit(new Uint8Array([1, 5, 1, 6]))).toThrow(/twice/);
    expect(() => decodeVersionEdit(new Uint8Array([5, NUM_LEVELS, 1]))).toThrow(/level/);
  });
});
