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

import { AssertionError, assert } from '../../io/assert.ts';
import { checkEntry, EntryKind, type Entry } from './entry.ts';
import { CorruptionError } from './errors.ts';
import { ByteReader, putVarint, varintLength } from './varint.ts';
import { opTimeMs, type WriteOp } from './write_request.ts';

/** Smallest possible encoded entry: five one-byte varints/bytes plus empty key and value. */
const MIN_ENTRY_BYTES = 5;

/** Bytes `encodeWriteBatch(entries)` will produce. */
export function writeBatchBytes(entries: readonly Entry[]): number {
  let total = varintLength(entries.length);
  for (const e of entries) {
    total +=
      varintLength(e.seq) + 1 + varintLength(e.timeMs) +
      varintLength(e.key.length) + e.key.length + varintLength(e.value.length) + e.value.length;
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

/** Bytes `encodeWriteOps` writes for `ops` whose first seq is `firstSeq` at wall time `nowMs`. */
export function writeOpsBytes(ops: readonly WriteOp[], firstSeq: number, nowMs: number): number {
  let total = varintLength(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const k = op.key.length;
    const v = op.kind === 'put' ? op.value.length : 0;
    total += varintLength(firstSeq + i) + 1 + varintLength(opTimeMs(op, nowMs)) + varintLength(k) + k + varintLength(v) + v;
  }
  return total;
}

/**
 * Encodes a request straight into `out` at `at` (exactly writeOpsBytes
 * bytes), with no intermediate entries: the bytes encodeWriteBatch writes
 * for the request's entries (write_request.ts writeEntries).
 */
export function encodeWriteOps(ops: readonly WriteOp[], firstSeq: number, nowMs: number, out: Uint8Array, at: number): void {
  at = putVarint(out, at, ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    at = putVarint(out, at, firstSeq + i);
    out[at++] = op.kind === 'put' ? EntryKind.Put : EntryKind.Delete;
    at = putVarint(out, at, opTimeMs(op, nowMs));
    const key = op.key;
    at = putVarint(out, at, key.length);
    copyInto(out, at, key);
    at += key.length;
    if (op.kind === 'put') {
      const v = op.value;
      at = putVarint(out, at, v.length);
      copyInto(out, at, v);
      at += v.length;
    } else {
      out[at++] = 0;
    }
  }
  if (!(at === out.length)) throw new AssertionError(`write batch size mismatch: wrote ${at} of ${out.length}`);
}

/** Short copies byte by byte: TypedArray.set has a fixed cost that dominates 16-byte keys. */
function copyInto(out: Uint8Array, at: number, src: Uint8Array): void {
  const n = src.length;
  if (n > 64) {
    out.set(src, at);
    return;
  }
  for (let i = 0; i < n; i++) out[at + i] = src[i]!;
}

/** Reads the batch back. Keys and values are views into `payload`, not copies. */
export function decodeWriteBatch(payload: Uint8Array): Entry[] {
  try {
    return decode(new ByteReader(payload));
  } catch (err) {
    if (err instanceof CorruptionError && !err.message.startsWith('write batch')) {
      throw new CorruptionError(`write batch: ${err.message}`);
    }
    throw err;
  }
}

function decode(reader: ByteReader): Entry[] {
  const count = canonicalVarint(reader, 'entry count');
  if (count * MIN_ENTRY_BYTES > reader.remaining()) {
    throw new CorruptionError(`write batch claims ${count} entries in ${reader.end} bytes`);
  }
  const entries: Entry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const seq = canonicalVarint(reader, 'seq');
    if (seq < 1) throw new CorruptionError(`write batch entry ${i}: seq ${seq} < 1`);
    const kind = reader.u8();
    if (kind !== EntryKind.Put && kind !== EntryKind.Delete) {
      throw new CorruptionError(`write batch entry ${i}: unknown kind ${kind}`);
    }
    const timeMs = canonicalVarint(reader, 'timeMs');
    const key = reader.bytes(canonicalVarint(reader, 'key length'));
    const value = reader.bytes(canonicalVarint(reader, 'value length'));
    if (kind === EntryKind.Delete && value.length !== 0) {
      throw new CorruptionError(`write batch entry ${i}: a delete with a ${value.length}-byte value`);
    }
    entries[i] = { key, seq, kind, value, timeMs };
  }
  if (reader.remaining() !== 0) {
    throw new CorruptionError(`write batch has ${reader.remaining()} trailing bytes`);
  }
  return entries;
}

/** A varint in its shortest form: one number, one encoding, so a batch re-encodes to its own bytes. */
function canonicalVarint(reader: ByteReader, what: string): number {
  const start = reader.pos;
  const value = reader.varint();
  if (reader.pos - start !== varintLength(value)) throw new CorruptionError(`write batch ${what}: over-long varint`);
  return value;
}
