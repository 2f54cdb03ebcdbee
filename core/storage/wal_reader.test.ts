import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc } from '../../io/crc32c.ts';
import { BLOCK_BYTES, encodeRecord, FragmentType, HEADER_BYTES } from './log_format.ts';
import { ManualSyncFile } from './manual_sync_file.ts';
import { readWal } from './wal_reader.ts';
import { WalWriter } from './wal_writer.ts';

interface WrittenLog {
  bytes: Uint8Array;
  /** Offset where each record's bytes start (after any padding it skipped) and end. */
  spans: { start: number; end: number }[];
}

function writeLog(records: Uint8Array[], blockBytes = BLOCK_BYTES): WrittenLog {
  const file = new ManualSyncFile();
  const writer = new WalWriter(file, { blockBytes });
  const spans: { start: number; end: number }[] = [];
  for (const r of records) {
    const before = writer.bytesWritten();
    let acked = false;
    writer.append(r, false, (err) => {
      expect(err).toBeNull();
      acked = true;
    });
    expect(acked).toBe(true);
    const end = writer.bytesWritten();
    // The record's own bytes start after the padding of a block tail too short for a header.
    const room = blockBytes - (before % blockBytes);
    spans.push({ start: room < HEADER_BYTES ? before + room : before, end });
  }
  return { bytes: file.contents(), spans };
}

const read = (bytes: Uint8Array, blockBytes = BLOCK_BYTES) => readWal(new ManualSyncFile('t.log', bytes), { blockBytes });
const hex = (records: Uint8Array[]) => records.map((r) => Buffer.from(r).toString('hex'));

/** Records of mixed sizes up to 100 KiB, mostly small so logs have many boundaries. */
const arbRecords = (maxCount: number) =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      // Large records from a seed: generating them byte by byte would dominate the run time.
      { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 30_000, max: 40_000 }), fc.nat()).map(([n, s]) => fillRandom(n, s)) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 100 * 1024 }), fc.nat()).map(([n, s]) => fillRandom(n, s)) },
    ),
    { maxLength: maxCount },
  );

function fillRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function fillPattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (n & 0xff)) & 0xff;
  return out;
}

describe('log format', () => {
  it('writes the documented header: masked crc32c over type and payload, u16 length, type', () => {
    const { bytes } = encodeRecord(new Uint8Array([0x61, 0x62, 0x63]), 0);
    const crc = maskCrc(crc32c(new Uint8Array([FragmentType.Full, 0x61, 0x62, 0x63])));
    expect(Array.from(bytes)).toEqual([
      crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24, 3, 0, FragmentType.Full, 0x61, 0x62, 0x63,
    ]);
  });

  it('zero-pads a block tail shorter than a header and fragments across blocks', () => {
    const blockBytes = 32;
    // At offset 27, 5 bytes remain: padding, then FIRST (25 bytes of payload), LAST (15 bytes).
    const { bytes, blockOffset } = encodeRecord(fillPattern(40), 27, blockBytes);
    expect(Array.from(bytes.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(bytes[5 + 6]).toBe(FragmentType.First);
    expect(bytes[5 + 4]).toBe(25);
    expect(bytes[5 + 32 + 6]).toBe(FragmentType.Last);
    expect(bytes[5 + 32 + 4]).toBe(15);
    expect(bytes.length).toBe(5 + 32 + 7 + 15);
    expect(blockOffset).toBe(22);
  });
});

describe('readWal', () => {
  it('round-trips random records of 0..100 KiB across block boundaries', () => {
    fc.assert(
      fc.property(arbRecords(30), fc.constantFrom(BLOCK_BYTES, 4096, 64), (records, blockBytes) => {
        const log = writeLog(records, blockBytes);
        const result = read(log.bytes, blockBytes);
        expect(result.stopReason).toBe('eof');
        expect(result.droppedBytes).toBe(0);
        expect(result.validBytes).toBe(log.bytes.length);
        expect(result.records.length).toBe(records.length);
        for (let i = 0; i < records.length; i++) expect(Buffer.from(result.records[i]!).equals(Buffer.from(records[i]!))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('round-trips small records with the smallest block size (one payload byte per fragment)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 20 }), (records) => {
        const log = writeLog(records, HEADER_BYTES + 1);
        const result = read(log.bytes, HEADER_BYTES + 1);
        expect(result.stopReason).toBe('eof');
        expect(hex(result.records)).toEqual(hex(records));
      }),
      { numRuns: 50 },
    );
  });

  it('round-trips records of 10 MiB and more', () => {
    const big = [fillPattern(10 * 1024 * 1024), new Uint8Array([1]), fillPattern(12 * 1024 * 1024 + 3)];
    const log = writeLog(big);
    const result = read(log.bytes);
    expect(result.stopReason).toBe('eof');
    expect(result.records.map((r) => r.length)).toEqual(big.map((r) => r.length));
    for (let i = 0; i < big.length; i++) expect(Buffer.from(result.records[i]!).equals(Buffer.from(big[i]!))).toBe(true);
  });

  it('reads an empty file as an empty log', () => {
    expect(read(new Uint8Array(0))).toEqual({ records: [], droppedBytes: 0, stopReason: 'eof', validBytes: 0, detail: '' });
  });

  it('truncated at every byte offset, yields exactly the records that end before the cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 90 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom(64, 100, 4096),
        (records, blockBytes) => {
          const log = writeLog(records, blockBytes);
          for (let cut = 0; cut <= log.bytes.length; cut++) {
            const result = read(log.bytes.subarray(0, cut), blockBytes);
            const whole = log.spans.filter((s) => s.end <= cut).length;
            expect(hex(result.records)).toEqual(hex(records.slice(0, whole)));
            const lastEnd = whole === 0 ? 0 : log.spans[whole - 1]!.end;
            expect(result.validBytes).toBe(lastEnd);
            const nextStart = whole < log.spans.length ? log.spans[whole]!.start : log.bytes.length;
            if (cut <= nextStart) {
              // Only the zero padding of a block tail is missing or present: a clean end.
              expect(result.stopReason).toBe('eof');
              expect(result.droppedBytes).toBe(0);
            } else {
              expect(result.stopReason).toBe('torn-tail');
              expect(result.droppedBytes).toBe(cut - lastEnd);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('after a single bit flip, returns exactly the records before the damaged one', () => {
    fc.assert(
      fc.property(arbRecords(10), fc.constantFrom(BLOCK_BYTES, 256, 64), fc.nat(), (records, blockBytes, bitSeed) => {
        fc.pre(records.length > 0);
        const log = writeLog(records, blockBytes);
        const bytes = log.bytes.slice();
        const bit = bitSeed % (bytes.length * 8);
        const at = bit >> 3;
        bytes[at]! ^= 1 << (bit & 7);
        const result = read(bytes, blockBytes);
        const damaged = log.spans.findIndex((s) => at >= s.start && at < s.end);
        if (damaged === -1) {
          // Inside the zero padding of a block tail: no record is touched.
          expect(hex(result.records)).toEqual(hex(records));
          return;
        }
        expect(hex(result.records)).toEqual(hex(records.slice(0, damaged)));
        expect(result.validBytes).toBe(damaged === 0 ? 0 : log.spans[damaged - 1]!.end);
        expect(result.droppedBytes).toBe(bytes.length - result.validBytes);
        if (damaged === records.length - 1) expect(result.stopReason).toBe('torn-tail');
        else if (!inLengthField(log, damaged, at, blockBytes)) expect(result.stopReason).toBe('corrupt');
        else expect(result.stopReason).not.toBe('eof');
      }),
      { numRuns: 300 },
    );
  });

  it('after random damage anywhere, returns a prefix of the records and never a wrong one', () => {
    fc.assert(
      fc.property(
        arbRecords(10),
        fc.constantFrom(BLOCK_BYTES, 256, 64),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        (records, blockBytes, flips, cut) => {
          fc.pre(records.length > 0);
          const log = writeLog(records, blockBytes);
          let bytes = log.bytes.slice();
          for (const [pos, mask] of flips) bytes[pos % bytes.length]! ^= mask;
          if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          const result = read(bytes, blockBytes);
          expect(hex(result.records)).toEqual(hex(records.slice(0, result.records.length)));
          expect(result.validBytes + result.droppedBytes).toBe(result.stopReason === 'eof' ? result.validBytes : bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports a zero-filled or garbage tail as torn, keeping every record before it', () => {
    const records = [fillPattern(10), fillPattern(50_000), fillPattern(3)];
    const log = writeLog(records);
    for (const tail of [new Uint8Array(4096), fillPattern(5000), new Uint8Array([1, 2, 3])]) {
      const bytes = new Uint8Array(log.bytes.length + tail.length);
      bytes.set(log.bytes);
      bytes.set(tail, log.bytes.length);
      const result = read(bytes);
      expect(hex(result.records)).toEqual(hex(records));
      expect(result.stopReason).toBe('torn-tail');
      expect(result.droppedBytes).toBe(tail.length);
    }
  });

  it('stops at corruption in the middle and reports the valid records it dropped', () => {
    const records = Array.from({ length: 50 }, (_, i) => fillPattern(1000 + i));
    const log = writeLog(records);
    const bytes = log.bytes.slice();
    bytes[log.spans[10]!.start + HEADER_BYTES + 5]! ^= 0x40;
    const result = read(bytes);
    expect(result.records.length).toBe(10);
    expect(result.stopReason).toBe('corrupt');
    expect(result.droppedBytes).toBe(bytes.length - log.spans[9]!.end);
    expect(result.detail).toMatch(/checksum mismatch at offset \d+; valid records follow/);
  });

  it('refuses fragments out of order even with good checksums', () => {
    const blockBytes = 32;
    const a = encodeRecord(fillPattern(40), 0, blockBytes).bytes; // FIRST + LAST
    const b = encodeRecord(fillPattern(3), 0, blockBytes).bytes; // FULL
    // A LAST with no FIRST before it: drop the leading block of `a`.
    expect(read(a.subarray(32), blockBytes).records).toEqual([]);
    // A FULL inside an unfinished FIRST: the FIRST block of `a`, then `b` at the next block.
    const mixed = new Uint8Array(64);
    mixed.set(a.subarray(0, 32));
    mixed.set(b, 32);
    const result = read(mixed.subarray(0, 32 + b.length), blockBytes);
    expect(result.records).toEqual([]);
    expect(result.stopReason).toBe('corrupt');
    expect(result.detail).toMatch(/a record starts before the previous one ended/);
  });
});

/** Whether byte `at` is in the length field of a fragment of record `index`. */
function inLengthField(log: WrittenLog, index: number, at: number, blockBytes: number): boolean {
  const { start, end } = log.spans[index]!;
  let pos = start;
  while (pos < end) {
    const room = blockBytes - (pos % blockBytes);
    if (room < HEADER_BYTES) {
      pos += room;
      continue;
    }
    const length = log.bytes[pos + 4]! | (log.bytes[pos + 5]! << 8);
    if (at === pos + 4 || at === pos + 5) return true;
    pos += HEADER_BYTES + length;
  }
  return false;
}
