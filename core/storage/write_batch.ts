// A write batch: entries applied atomically, each carrying its own sequence
// number. Its encoding is the payload of one WAL record, so a batch is
// replayed whole or not at all.
//
// Format (varint = unsigned LEB128, minimal length, at most 2^53 - 1):
//
//   batch := count:varint entry{count}
//   entry := seq:varint kind:u8 timeMs:varint keyLen:varint key valueLen:varint value
//
// Nothing may follow the last entry. Decoding checks every field against the
// Entry invariants (1 <= seq, known kind, a delete has no value) and throws
// CorruptionError on any violation, so a record that passed the WAL's CRC but
// was written by a buggy or foreign writer is still never applied.

import { assert } from '../../io/assert.ts';
import { checkEntry, EntryKind, MAX_SEQ, type Entry } from './entry.ts';
import { CorruptionError } from './errors.ts';

/** Smallest possible encoded entry: five one-byte varints/bytes plus empty key and value. */
const MIN_ENTRY_BYTES = 5;
const TWO_POW_7 = 0x80;

function varintBytes(value: number): number {
  let n = 1;
  while (value >= TWO_POW_7) {
    value = Math.floor(value / TWO_POW_7);
    n++;
  }
  return n;
}

/** Writes `value` (an integer in [0, 2^53)) at `at`; returns the offset after it. */
function putVarint(out: Uint8Array, at: number, value: number): number {
  // Division instead of shifts: JS bitwise operators truncate to 32 bits.
  while (value >= TWO_POW_7) {
    out[at++] = (value % TWO_POW_7) | TWO_POW_7;
    value = Math.floor(value / TWO_POW_7);
  }
  out[at++] = value;
  return at;
}

/** Bytes `encodeWriteBatch(entries)` will produce. */
export function writeBatchBytes(entries: readonly Entry[]): number {
  let total = varintBytes(entries.length);
  for (const e of entries) {
    total +=
      varintBytes(e.seq) + 1 + varintBytes(e.timeMs) +
      varintBytes(e.key.length) + e.key.length + varintBytes(e.value.length) + e.value.length;
  }
  return total;
}

export function encodeWriteBatch(entries: readonly Entry[]): Uint8Array {
  const out = new Uint8Array(writeBatchBytes(entries));
  let at = putVarint(out, 0, entries.length);
  for (const e of entries) {
    checkEntry(e);
    at = putVarint(out, at, e.seq);
    out[at++] = e.kind;
    at = putVarint(out, at, e.timeMs);
    at = putVarint(out, at, e.key.length);
    out.set(e.key, at);
    at += e.key.length;
    at = putVarint(out, at, e.value.length);
    out.set(e.value, at);
    at += e.value.length;
  }
  assert(at === out.length, `write batch size mismatch: wrote ${at} of ${out.length}`);
  return out;
}

/** Reads the batch back. Keys and values are views into `payload`, not copies. */
export function decodeWriteBatch(payload: Uint8Array): Entry[] {
  const reader = new BatchReader(payload);
  const count = reader.varint('entry count');
  if (count * MIN_ENTRY_BYTES > payload.length - reader.at) {
    throw new CorruptionError(`write batch claims ${count} entries in ${payload.length} bytes`);
  }
  const entries: Entry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const seq = reader.varint('seq');
    if (seq < 1) throw new CorruptionError(`write batch entry ${i}: seq ${seq} < 1`);
    const kind = reader.byte('kind');
    if (kind !== EntryKind.Put && kind !== EntryKind.Delete) {
      throw new CorruptionError(`write batch entry ${i}: unknown kind ${kind}`);
    }
    const timeMs = reader.varint('timeMs');
    const key = reader.bytes(reader.varint('key length'), 'key');
    const value = reader.bytes(reader.varint('value length'), 'value');
    if (kind === EntryKind.Delete && value.length !== 0) {
      throw new CorruptionError(`write batch entry ${i}: a delete with a ${value.length}-byte value`);
    }
    entries[i] = { key, seq, kind, value, timeMs };
  }
  if (reader.at !== payload.length) {
    throw new CorruptionError(`write batch has ${payload.length - reader.at} trailing bytes`);
  }
  return entries;
}

class BatchReader {
  at = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(what: string): number {
    if (this.at >= this.buf.length) throw new CorruptionError(`write batch truncated in ${what}`);
    return this.buf[this.at++]!;
  }

  varint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.byte(what);
      value += (b & 0x7f) * scale;
      if (b < TWO_POW_7) {
        // A final zero byte after others would make a second encoding of the same number.
        if (b === 0 && i > 0) throw new CorruptionError(`write batch ${what}: over-long varint`);
        break;
      }
      scale *= TWO_POW_7;
      if (i >= 7) throw new CorruptionError(`write batch ${what}: varint longer than 8 bytes`);
    }
    if (value > MAX_SEQ) throw new CorruptionError(`write batch ${what}: varint ${value} exceeds 2^53 - 1`);
    return value;
  }

  bytes(length: number, what: string): Uint8Array {
    if (length > this.buf.length - this.at) {
      throw new CorruptionError(`write batch ${what} of ${length} bytes overruns the batch`);
    }
    const out = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }
}
