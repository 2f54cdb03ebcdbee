import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../io/assert.ts';
import { DiskReadError } from '../../io/disk.ts';
import { BlockCache } from './block_cache.ts';
import { compareEntries, compareKeys, type Entry, EntryKind, MAX_SEQ } from './entry.ts';
import { CorruptionError } from './errors.ts';
import { MemoryFile } from './memory_file.ts';
import { type SstableIterator, SstableReader } from './sstable_reader.ts';
import { SstableWriter, type SstableWriterOptions } from './sstable_writer.ts';

// ---- table generation -------------------------------------------------------

/** Deterministic value bytes: text-like (compressible) or noise (not). */
function valueBytes(length: number, seed: number, noisy: boolean): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    if (noisy) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    } else out[i] = 97 + ((seed + (i % 23)) % 26);
  }
  return out;
}

const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.constantFrom(0, 1, 97, 98, 99, 255), { minLength: 1, maxLength: 10 }).map((a) => Uint8Array.from(a)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 256 }) },
);

function rowArb(maxValue: number) {
  return fc.record({
    key: keyArb,
    seq: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: MAX_SEQ })),
    del: fc.boolean(),
    length: fc.oneof(
      { weight: 40, arbitrary: fc.nat(40) },
      { weight: 3, arbitrary: fc.integer({ min: 100, max: 6000 }) },
      { weight: 1, arbitrary: fc.integer({ min: Math.min(4096, maxValue), max: maxValue }) },
    ),
    noisy: fc.boolean(),
    timeMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 45 })),
  });
}

type Row = ReturnType<typeof rowArb> extends fc.Arbitrary<infer R> ? R : never;

function toEntries(rows: Row[]): Entry[] {
  const entries: Entry[] = rows.map((r, i) => ({
    key: r.key,
    seq: r.seq,
    kind: r.del ? EntryKind.Delete : EntryKind.Put,
    value: r.del ? new Uint8Array(0) : valueBytes(r.length, r.seq + i, r.noisy),
    timeMs: r.timeMs,
  }));
  entries.sort(compareEntries);
  return entries.filter((e, i) => i === 0 || compareEntries(entries[i - 1]!, e) !== 0);
}

const optionsArb: fc.Arbitrary<Partial<SstableWriterOptions>> = fc.record({
  blockBytes: fc.constantFrom(64, 256, 1024, 4096),
  bloomBitsPerKey: fc.constantFrom(0, 10),
  compression: fc.boolean(),
  restartInterval: fc.constantFrom(1, 2, 16),
});

function tableArb(maxEntries: number, maxValue: number) {
  return fc.record({ rows: fc.array(rowArb(maxValue), { maxLength: maxEntries }), options: optionsArb, probes: fc.array(keyArb, { maxLength: 20 }) });
}

function writeTable(entries: Entry[], options: Partial<SstableWriterOptions>, name = 'test.sst'): MemoryFile {
  const file = new MemoryFile(name);
  const w = new SstableWriter(file, options);
  for (const e of entries) w.add(e);
  w.finish();
  return file;
}

// ---- the model ----------------------------------------------------------------

function modelGet(model: Entry[], key: Uint8Array, maxSeq: number): Entry | undefined {
  return model.find((e) => compareKeys(e.key, key) === 0 && e.seq <= maxSeq);
}

function modelSeek(model: Entry[], key: Uint8Array, seq = MAX_SEQ): number {
  const i = model.findIndex((e) => compareEntries(e, { key, seq }) >= 0);
  return i === -1 ? model.length : i;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function expectSameEntry(got: Entry | undefined, want: Entry | undefined): void {
  if (want === undefined) {
    expect(got).toBeUndefined();
    return;
  }
  expect(got).toBeDefined();
  expect({ seq: got!.seq, kind: got!.kind, timeMs: got!.timeMs, key: [...got!.key] }).toEqual({ seq: want.seq, kind: want.kind, timeMs: want.timeMs, key: [...want.key] });
  expect(sameBytes(got!.value, want.value)).toBe(true);
}

/** (key, maxSeq) pairs worth asking: every version, just below it, any version, and absent keys. */
function queriesFor(model: Entry[], probes: Uint8Array[]): [Uint8Array, number][] {
  const out: [Uint8Array, number][] = [];
  for (const e of model) out.push([e.key, e.seq], [e.key, e.seq - 1], [e.key, MAX_SEQ]);
  for (const p of probes) out.push([p, MAX_SEQ], [p, 50]);
  return out;
}

function collectFrom(it: SstableIterator, limit = Number.POSITIVE_INFINITY): Entry[] {
  const out: Entry[] = [];
  for (; it.valid() && out.length < limit; it.next()) out.push(it.entry());
  return out;
}

// ---- tests --------------------------------------------------------------------

describe('sstable reader', () => {
  it('get, iteration and seeks agree with a sorted array', () => {
    fc.assert(
      fc.property(tableArb(150, 20_000), fc.boolean(), ({ rows, options, probes }, withCache) => {
        const model = toEntries(rows);
        const file = writeTable(model, options);
        const reader = SstableReader.open(file, withCache ? { cache: new BlockCache(64 * 1024) } : {});
        expect(reader.info.entryCount).toBe(model.length);
        expect(reader.info.tombstoneCount).toBe(model.filter((e) => e.kind === EntryKind.Delete).length);
        for (const [key, maxSeq] of queriesFor(model, probes)) expectSameEntry(reader.get(key, maxSeq), modelGet(model, key, maxSeq));
        for (const e of model) expect(reader.mayContain(e.key)).toBe(true);

        const it = reader.iterator();
        it.seekToFirst();
        const all = collectFrom(it);
        expect(all.length).toBe(model.length);
        all.forEach((e, i) => expectSameEntry(e, model[i]));

        for (const key of [...probes, ...model.map((e) => e.key)]) {
          it.seek(key);
          const i = modelSeek(model, key);
          const got = collectFrom(it, 3);
          expect(got.length).toBe(Math.min(3, model.length - i));
          got.forEach((e, j) => expectSameEntry(e, model[i + j]));
        }
        for (const e of model) {
          it.seekVersion(e.key, e.seq - 1);
          const i = modelSeek(model, e.key, e.seq - 1);
          expect(it.valid()).toBe(i < model.length);
          if (i < model.length) expectSameEntry(it.entry(), model[i]);
        }
        reader.close();
        expect(file.closed).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps values up to 1 MiB that span far beyond a block', () => {
    fc.assert(
      fc.property(tableArb(12, 1 << 20), ({ rows, options, probes }) => {
        const model = toEntries(rows);
        const reader = SstableReader.open(writeTable(model, options), { cache: new BlockCache(4 << 20) });
        for (const [key, maxSeq] of queriesFor(model, probes)) expectSameEntry(reader.get(key, maxSeq), modelGet(model, key, maxSeq));
        const it = reader.iterator();
        it.seekToFirst();
        collectFrom(it).forEach((e, i) => expectSameEntry(e, model[i]));
      }),
      { numRuns: 25 },
    );
    const big = valueBytes(1 << 20, 7, true);
    const model: Entry[] = [
      { key: Uint8Array.of(1), seq: 3, kind: EntryKind.Put, value: big, timeMs: 0 },
      { key: Uint8Array.of(1), seq: 2, kind: EntryKind.Put, value: big.subarray(1), timeMs: 0 },
      { key: Uint8Array.of(2), seq: 1, kind: EntryKind.Put, value: new Uint8Array(0), timeMs: 0 },
    ];
    const reader = SstableReader.open(writeTable(model, {}));
    expect(reader.dataBlockCount()).toBe(3);
    expectSameEntry(reader.get(Uint8Array.of(1), 2), model[1]);
    expectSameEntry(reader.get(Uint8Array.of(2)), model[2]);
  });

  it('answers from the block cache, and compaction scans can stay out of it', () => {
    const enc = new TextEncoder();
    const model: Entry[] = [];
    for (let i = 0; i < 2000; i++) model.push({ key: enc.encode(`k${String(i).padStart(5, '0')}`), seq: i + 1, kind: EntryKind.Put, value: enc.encode(`value ${i}`), timeMs: 0 });
    const file = writeTable(model, {});
    const cache = new BlockCache(1 << 20);
    const reader = SstableReader.open(file, { cache, fileId: 7 });
    const scan = reader.iterator({ fillCache: false });
    scan.seekToFirst();
    expect(collectFrom(scan).length).toBe(2000);
    expect(cache.entryCount()).toBe(0);
    expect(reader.stats.blocksRead).toBe(reader.dataBlockCount());

    const before = file.preadCalls;
    expectSameEntry(reader.get(model[500]!.key), model[500]);
    expectSameEntry(reader.get(model[501]!.key), model[501]);
    expect(file.preadCalls - before).toBe(1);
    expect(reader.stats.cacheHits).toBe(1);
    expect(cache.entryCount()).toBe(1);

    const uncached = SstableReader.open(file);
    uncached.get(model[500]!.key);
    uncached.get(model[500]!.key);
    expect(uncached.stats).toMatchObject({ blocksRead: 2, cacheHits: 0 });
  });

  it('rules out most absent keys with the filter and counts what it does', () => {
    const enc = new TextEncoder();
    const model: Entry[] = [];
    for (let i = 0; i < 5000; i++) model.push({ key: enc.encode(`present-${i}`), seq: 1, kind: EntryKind.Put, value: Uint8Array.of(1), timeMs: 0 });
    model.sort(compareEntries);
    const reader = SstableReader.open(writeTable(model, {}));
    for (let i = 0; i < 10_000; i++) expect(reader.get(enc.encode(`absent-${i}`))).toBeUndefined();
    const s = { ...reader.stats };
    expect(s.bloomChecks).toBe(10_000);
    expect(s.bloomNegatives + s.bloomFalsePositives).toBe(10_000);
    expect(s.bloomFalsePositives).toBeLessThan(200);
    expect(s.blocksRead).toBe(s.bloomFalsePositives);
    // A present key with only newer versions than asked for is not found either.
    expect(reader.get(model[0]!.key, 0)).toBeUndefined();
    expect(reader.stats.bloomFalsePositives).toBe(s.bloomFalsePositives + 1);
  });

  it('reports any bit flip as CorruptionError, never as wrong data', () => {
    fc.assert(
      fc.property(tableArb(60, 3000), fc.nat(), ({ rows, options, probes }, bitSeed) => {
        const model = toEntries(rows);
        const pristine = writeTable(model, options).contents();
        const bit = bitSeed % (pristine.length * 8);
        const file = new MemoryFile('damaged.sst', pristine);
        file.flipBit(bit >>> 3, bit & 7);
        expect(detectsDamage(file, model, probes)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('reports a rewritten byte, truncation or extra bytes as CorruptionError', () => {
    fc.assert(
      fc.property(tableArb(40, 3000), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), ({ rows, options, probes }, at, xor, cut) => {
        const model = toEntries(rows);
        const pristine = writeTable(model, options).contents();
        const rewritten = pristine.slice();
        rewritten[at % rewritten.length]! ^= xor;
        expect(detectsDamage(new MemoryFile('rewritten.sst', rewritten), model, probes)).toBe(true);
        expect(detectsDamage(new MemoryFile('short.sst', pristine.subarray(0, cut % pristine.length)), model, probes)).toBe(true);
        const longer = new Uint8Array(pristine.length + 1 + (cut % 100));
        longer.set(pristine);
        expect(detectsDamage(new MemoryFile('long.sst', longer), model, probes)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('names the file and the problem: empty file, wrong magic', () => {
    expect(() => SstableReader.open(new MemoryFile('empty.sst'))).toThrow(/empty\.sst: .*too short/);
    const bytes = writeTable([], {}).contents();
    bytes[bytes.length - 1]! ^= 0x20;
    let caught: unknown;
    try {
      SstableReader.open(new MemoryFile('magic.sst', bytes));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CorruptionError);
    expect((caught as CorruptionError).file).toBe('magic.sst');
    expect((caught as CorruptionError).message).toMatch(/magic/);
  });

  it('keeps serving intact blocks when one data block is corrupt', () => {
    const enc = new TextEncoder();
    const model: Entry[] = [];
    for (let i = 0; i < 3000; i++) model.push({ key: enc.encode(`key-${String(i).padStart(5, '0')}`), seq: 10_000 - i, kind: EntryKind.Put, value: valueBytes(30, i, false), timeMs: 0 });
    const pristine = writeTable(model, {}).contents();
    const probe = SstableReader.open(new MemoryFile('probe.sst', pristine));
    const victim = Math.floor(probe.dataBlockCount() / 2);
    const handle = probe.dataBlockHandle(victim);
    const file = new MemoryFile('one-bad-block.sst', pristine);
    file.flipBit(handle.offset + Math.floor(handle.size / 2), 3);
    const reader = SstableReader.open(file, { cache: new BlockCache(1 << 20) });
    let served = 0;
    let refused = 0;
    let beforeVictim = 0;
    for (const e of model) {
      const block = reader.findBlock(e.key, MAX_SEQ);
      if (block < victim) beforeVictim++;
      if (block === victim) {
        expect(() => reader.get(e.key)).toThrow(CorruptionError);
        refused++;
      } else {
        expectSameEntry(reader.get(e.key), e);
        served++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(served).toBe(model.length - refused);
    // A scan stops at the bad block with CorruptionError, after the right prefix.
    const it = reader.iterator();
    it.seekToFirst();
    const seen: Entry[] = [];
    expect(() => {
      for (; it.valid(); it.next()) seen.push(it.entry());
    }).toThrow(CorruptionError);
    expect(it.valid()).toBe(false);
    expect(seen.length).toBe(beforeVictim);
    seen.forEach((e, i) => expectSameEntry(e, model[i]));
    // Seeking past the bad block works.
    it.seek(model[model.length - 1]!.key);
    expectSameEntry(it.entry(), model[model.length - 1]);
  });

  it('estimates offsets of keys, growing with the key', () => {
    const enc = new TextEncoder();
    const model: Entry[] = [];
    for (let i = 0; i < 4000; i++) model.push({ key: enc.encode(`k${String(i).padStart(5, '0')}`), seq: 1, kind: EntryKind.Put, value: valueBytes(50, i, true), timeMs: 0 });
    const file = writeTable(model, {});
    const reader = SstableReader.open(file);
    const dataEnd = reader.approximateOffsetOf(enc.encode('zzz'));
    expect(reader.approximateOffsetOf(enc.encode('a'))).toBe(0);
    expect(dataEnd).toBeGreaterThan(file.size() * 0.8);
    expect(dataEnd).toBeLessThan(file.size());
    let last = 0;
    for (let i = 0; i < model.length; i += 97) {
      const at = reader.approximateOffsetOf(model[i]!.key);
      expect(at).toBeGreaterThanOrEqual(last);
      // Entries are about the same size, so the offset tracks the position.
      expect(Math.abs(at / dataEnd - i / model.length)).toBeLessThan(0.05);
      last = at;
    }
  });

  it('treats use after close as a bug, not as corruption', () => {
    const enc = new TextEncoder();
    const file = writeTable([{ key: enc.encode('a'), seq: 1, kind: EntryKind.Put, value: enc.encode('x'), timeMs: 0 }], {});
    const reader = SstableReader.open(file);
    const it = reader.iterator();
    reader.close();
    expect(() => reader.get(enc.encode('a'))).toThrow(AssertionError);
    expect(() => it.seekToFirst()).toThrow(AssertionError);
  });

  it('passes disk read errors through unchanged', () => {
    const enc = new TextEncoder();
    const model: Entry[] = [{ key: enc.encode('a'), seq: 1, kind: EntryKind.Put, value: enc.encode('x'), timeMs: 0 }];
    const file = writeTable(model, {});
    const reader = SstableReader.open(file);
    file.pread = () => {
      throw new DiskReadError('EIO');
    };
    expect(() => reader.get(enc.encode('a'))).toThrow(DiskReadError);
    expect(() => SstableReader.open(file)).toThrow(DiskReadError);
  });
});

/**
 * Opens and reads a damaged table. Every answer must be the original data or
 * CorruptionError naming the file; returns whether the damage was noticed.
 * Every byte is under a checksum, so a full open-and-scan always notices.
 */
function detectsDamage(file: MemoryFile, model: Entry[], probes: Uint8Array[]): boolean {
  const noticed = (e: unknown): true => {
    if (!(e instanceof CorruptionError)) throw e;
    expect(e.file).toBe(file.name);
    return true;
  };
  let reader: SstableReader;
  try {
    reader = SstableReader.open(file, { cache: new BlockCache(1 << 16) });
  } catch (e) {
    return noticed(e);
  }
  let damage = false;
  for (const [key, maxSeq] of queriesFor(model, probes)) {
    try {
      expectSameEntry(reader.get(key, maxSeq), modelGet(model, key, maxSeq));
    } catch (e) {
      damage = noticed(e);
    }
  }
  const it = reader.iterator();
  const seen: Entry[] = [];
  try {
    for (it.seekToFirst(); it.valid(); it.next()) seen.push(it.entry());
    expect(seen.length).toBe(model.length);
  } catch (e) {
    damage = noticed(e);
  }
  seen.forEach((e, i) => expectSameEntry(e, model[i]));
  for (const key of probes) {
    try {
      it.seek(key);
      const i = modelSeek(model, key);
      expect(it.valid()).toBe(i < model.length);
      if (it.valid()) expectSameEntry(it.entry(), model[i]);
    } catch (e) {
      damage = noticed(e);
    }
  }
  return damage;
}
