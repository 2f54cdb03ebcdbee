// What a replica stores for one key: the value bytes the storage engine holds.
//
// In `lww` mode a key holds one write, and of two writes the one with the
// higher HLC wins. In `siblings` mode it holds a dotted version vector set of
// writes. Either way a write is a value or a tombstone, stamped with the
// coordinator's HLC (which also orders siblings when they are collapsed and
// dates tombstones for purging).
//
//   versioned := mode:u8 body
//     mode 1 (lww):      body = write
//     mode 2 (siblings): body = dvv (see dvv_codec.ts) whose sibling values are writes
//   write     := kind:u8 expiresAtMs:u64be hlcLength:u16be hlc[hlcLength] (see hlc.ts) bytes[rest]
//     kind 0 = tombstone (expiresAtMs 0, no bytes), kind 1 = value
//     expiresAtMs: 0 = never expires (TTL)

import { assert, unreachable } from '../../io/assert.ts';
import { readUint32Be } from '../../io/byte_order.ts';
import type { NodeId } from '../../io/network.ts';
import {
  type CausalContext,
  type DvvSet,
  collapseLww,
  emptyDvv,
  join,
  siblingCount,
  sync,
  update,
  values,
} from './dotted_version_vector.ts';
import { decodeDvv, encodeDvv } from './dvv_codec.ts';
import { ConflictModeMismatchError, VersionFormatError } from './errors.ts';
import { type Hlc, compareHlc, decodeHlcAt, encodedHlcLength, writeHlc } from './hlc.ts';

/** Mode tags, the first byte of every stored value. Never change these numbers: they are in every file. */
export const ModeTag = Object.freeze({ Lww: 1, Siblings: 2 } as const);
/** Write kinds inside a stored value. Never change these numbers: they are in every file. */
const KindTag = Object.freeze({ Tombstone: 0, Value: 1 } as const);

export type ConflictMode = 'lww' | 'siblings';

export type Write =
  | { readonly kind: 'value'; readonly hlc: Hlc; readonly bytes: Uint8Array; readonly expiresAtMs: number }
  | { readonly kind: 'tombstone'; readonly hlc: Hlc };

export type VersionedValue =
  | { readonly mode: 'lww'; readonly write: Write }
  | { readonly mode: 'siblings'; readonly dvv: DvvSet<Write> };

export function valueWrite(hlc: Hlc, bytes: Uint8Array, expiresAtMs = 0): Write {
  return { kind: 'value', hlc, bytes, expiresAtMs };
}

export function tombstoneWrite(hlc: Hlc): Write {
  return { kind: 'tombstone', hlc };
}

/** Whether a write shows as data at `nowMs` (not a tombstone, not expired). */
export function isLive(write: Write, nowMs: number): boolean {
  return write.kind === 'value' && (write.expiresAtMs === 0 || write.expiresAtMs > nowMs);
}

/**
 * Total order on writes: HLC (ties by node id inside it); on an equal HLC,
 * which only a clock reused after a crash produces, a tombstone beats a value
 * (Cassandra's rule), then the later expiry, then the larger bytes, so that
 * merging stays commutative even then.
 */
export function compareWrites(a: Write, b: Write): number {
  const c = compareHlc(a.hlc, b.hlc);
  if (c !== 0) return c;
  if (a.kind !== b.kind) return a.kind === 'tombstone' ? 1 : -1;
  if (a.kind === 'tombstone' || b.kind === 'tombstone') return 0;
  if (a.expiresAtMs !== b.expiresAtMs) return a.expiresAtMs < b.expiresAtMs ? -1 : 1;
  return compareBytes(a.bytes, b.bytes);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** LWW merge: the write with the higher HLC. Commutative, associative, idempotent. */
export function mergeLww(a: Write, b: Write): Write {
  return compareWrites(a, b) >= 0 ? a : b;
}

/** Merges two replicas' versions of one key; both must be in the same mode. */
export function mergeVersionedValues(a: VersionedValue, b: VersionedValue): VersionedValue {
  if (a.mode === 'lww' && b.mode === 'lww') {
    const w = mergeLww(a.write, b.write);
    return w === a.write ? a : b;
  }
  if (a.mode === 'siblings' && b.mode === 'siblings') return { mode: 'siblings', dvv: sync(a.dvv, b.dvv, mergeLww) };
  throw new ConflictModeMismatchError(`cannot merge a ${a.mode} version with a ${b.mode} version`);
}

/**
 * A coordinator's write in siblings mode: `write` replaces what `context`
 * saw of `current` (null when the key is absent here) and gets a dot of
 * `coordinatorId`.
 */
export function writeSiblings(current: VersionedValue | null, context: CausalContext, write: Write, coordinatorId: NodeId): VersionedValue {
  if (current !== null && current.mode !== 'siblings') throw new ConflictModeMismatchError('siblings write onto an lww version');
  return { mode: 'siblings', dvv: update(current?.dvv ?? emptyDvv<Write>(), context, write, coordinatorId) };
}

/** Collapses a siblings-mode version to its highest-HLC sibling (an lww version is returned as is). */
export function collapseSiblings(v: VersionedValue): VersionedValue {
  return v.mode === 'siblings' ? { mode: 'siblings', dvv: collapseLww(v.dvv, compareWrites) } : v;
}

export interface VersionedRead {
  /** Live values; empty when the key reads as missing (tombstones only, expired, or nothing). */
  readonly values: Uint8Array[];
  /** Siblings mode: the causal context to hand the client, also when nothing is live. */
  readonly context: CausalContext | null;
  /** Siblings held, tombstones and expired ones included: what sibling limits count. */
  readonly siblingCount: number;
}

export function readVersionedValue(v: VersionedValue, nowMs: number): VersionedRead {
  if (v.mode === 'lww') {
    const w = v.write;
    return { values: w.kind === 'value' && isLive(w, nowMs) ? [w.bytes] : [], context: null, siblingCount: 1 };
  }
  const live: Uint8Array[] = [];
  for (const w of values(v.dvv)) if (w.kind === 'value' && isLive(w, nowMs)) live.push(w.bytes);
  return { values: live, context: join(v.dvv), siblingCount: siblingCount(v.dvv) };
}

/**
 * When the key became deleted (the latest tombstone's wall time or expiry)
 * if nothing in it is live at `nowMs`, else null. Compaction may drop the
 * version once this is older than the tombstone grace period.
 */
export function deletionTimeMs(v: VersionedValue, nowMs: number): number | null {
  const writes = v.mode === 'lww' ? [v.write] : values(v.dvv);
  let latest = 0;
  for (const w of writes) {
    if (isLive(w, nowMs)) return null;
    const at = w.kind === 'tombstone' ? w.hlc.wallMs : w.expiresAtMs;
    if (at > latest) latest = at;
  }
  return latest;
}

export function encodeVersionedValue(v: VersionedValue): Uint8Array {
  if (v.mode === 'lww') return encodeWriteAfter(v.write, ModeTag.Lww);
  if (v.mode === 'siblings') {
    const body = encodeDvv(v.dvv, encodeWrite);
    const out = new Uint8Array(1 + body.length);
    out[0] = ModeTag.Siblings;
    out.set(body, 1);
    return out;
  }
  return unreachable('versioned value mode');
}

/** Parses stored bytes; anything malformed is a VersionFormatError. Value bytes are views into `bytes`. */
export function decodeVersionedValue(bytes: Uint8Array): VersionedValue {
  return decodeVersionedValueAt(bytes, 0, bytes.length);
}

/** decodeVersionedValue(bytes.subarray(from, to)), without the view for an lww value (a frame or a block holds it among other bytes). */
export function decodeVersionedValueAt(bytes: Uint8Array, from: number, to: number): VersionedValue {
  assert(from >= 0 && from <= to && to <= bytes.length, 'decodeVersionedValueAt: range inside the bytes');
  if (to === from) throw new VersionFormatError('versioned value is empty');
  switch (bytes[from]) {
    case ModeTag.Lww:
      return { mode: 'lww', write: decodeWriteAt(bytes, from + 1, to) };
    case ModeTag.Siblings:
      return { mode: 'siblings', dvv: decodeDvv(bytes.subarray(from + 1, to), decodeWrite) };
    default:
      throw new VersionFormatError(`versioned value mode tag ${bytes[from]} unknown`);
  }
}

const WRITE_FIXED_BYTES = 1 + 8 + 2;
const EMPTY_BYTES = new Uint8Array(0);

export function encodeWrite(w: Write): Uint8Array {
  return encodeWriteAfter(w, null);
}

// One allocation for the stored value: the mode tag, when given, then the write.
function encodeWriteAfter(w: Write, tag: number | null): Uint8Array {
  const start = tag === null ? 0 : 1;
  const out = new Uint8Array(start + encodedWriteLength(w));
  if (tag !== null) out[0] = tag;
  writeWriteAt(out, start, w);
  return out;
}

function encodedWriteLength(w: Write): number {
  return WRITE_FIXED_BYTES + encodedHlcLength(w.hlc) + (w.kind === 'value' ? w.bytes.length : 0);
}

/** Writes `w` at `out[at]`; returns where it ends. */
function writeWriteAt(out: Uint8Array, at: number, w: Write): number {
  const bytes = w.kind === 'value' ? w.bytes : EMPTY_BYTES;
  const expiresAtMs = w.kind === 'value' ? w.expiresAtMs : 0;
  if (!(Number.isSafeInteger(expiresAtMs) && expiresAtMs >= 0)) assert(false, `write expiresAtMs invalid: ${expiresAtMs}`);
  const hlcLength = encodedHlcLength(w.hlc);
  out[at] = w.kind === 'value' ? KindTag.Value : KindTag.Tombstone;
  // Big-endian u64 (below 2^53) and u16, byte by byte: cheaper than a DataView per write.
  const high = Math.floor(expiresAtMs / 0x1_0000_0000);
  const low = expiresAtMs >>> 0;
  out[at + 1] = high >>> 24;
  out[at + 2] = (high >>> 16) & 0xff;
  out[at + 3] = (high >>> 8) & 0xff;
  out[at + 4] = high & 0xff;
  out[at + 5] = low >>> 24;
  out[at + 6] = (low >>> 16) & 0xff;
  out[at + 7] = (low >>> 8) & 0xff;
  out[at + 8] = low & 0xff;
  out[at + 9] = hlcLength >>> 8;
  out[at + 10] = hlcLength & 0xff;
  const end = writeHlc(out, at + WRITE_FIXED_BYTES, w.hlc);
  assert(end === at + WRITE_FIXED_BYTES + hlcLength, 'write hlc length matches its encoding');
  if (bytes.length <= 64) for (let i = 0; i < bytes.length; i++) out[end + i] = bytes[i]!;
  else out.set(bytes, end);
  return end + bytes.length;
}

/**
 * For encoders that embed a stored value in a larger buffer: the length of
 * encodeVersionedValue(v) when writeVersionedValueAt can write it in place
 * (lww mode), else null (encode it with encodeVersionedValue).
 */
export function inPlaceVersionedValueLength(v: VersionedValue): number | null {
  return v.mode === 'lww' ? 1 + encodedWriteLength(v.write) : null;
}

/** Writes exactly encodeVersionedValue(v) at `out[at]` (room: inPlaceVersionedValueLength); returns where it ends. */
export function writeVersionedValueAt(out: Uint8Array, at: number, v: VersionedValue): number {
  assert(v.mode === 'lww', 'writeVersionedValueAt: only lww values are written in place');
  out[at] = ModeTag.Lww;
  return writeWriteAt(out, at + 1, v.write);
}

export function decodeWrite(bytes: Uint8Array): Write {
  return decodeWriteAt(bytes, 0, bytes.length);
}

/** decodeWrite(bytes.subarray(from, to)); the value's bytes are the one view it makes (a plain Uint8Array, also over a Buffer). */
function decodeWriteAt(bytes: Uint8Array, from: number, to: number): Write {
  if (to - from < WRITE_FIXED_BYTES) throw new VersionFormatError(`write of ${to - from} bytes is truncated`);
  // Big-endian fields, as written (no DataView per record).
  const kind = bytes[from];
  const high = readUint32Be(bytes, from + 1);
  if (high > 0x1f_ffff) throw new VersionFormatError('write expiresAtMs exceeds 2^53 - 1');
  const expiresAtMs = high * 0x1_0000_0000 + readUint32Be(bytes, from + 5);
  const hlcLength = (bytes[from + 9]! << 8) | bytes[from + 10]!;
  const hlcStart = from + WRITE_FIXED_BYTES;
  if (hlcLength > to - hlcStart) throw new VersionFormatError('write hlc runs past the end');
  const hlc = decodeHlcAt(bytes, hlcStart, hlcStart + hlcLength);
  const restStart = hlcStart + hlcLength;
  if (kind === KindTag.Value) return { kind: 'value', hlc, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset + restStart, to - restStart), expiresAtMs };
  if (kind === KindTag.Tombstone) {
    if (expiresAtMs !== 0 || restStart !== to) throw new VersionFormatError('tombstone carries an expiry or bytes');
    return { kind: 'tombstone', hlc };
  }
  throw new VersionFormatError(`write kind ${kind} unknown`);
}
