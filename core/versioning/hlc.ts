// Hybrid logical clocks (Kulkarni, Demirbas, Madeppa, Avva, Leone: "Logical
// Physical Clocks", 2014). A timestamp is (wallMs, logical, nodeId): wallMs
// tracks the largest physical time this node has heard of, logical orders
// events within one millisecond, and nodeId breaks the remaining ties so that
// compareHlc is a total order. If event e happened before f (same node, or
// through a message that was accepted), then compareHlc(hlc(e), hlc(f)) < 0.
// LWW conflict resolution orders versions by this order.
//
// Encoding (big-endian, so the bytewise order of encodings is compareHlc's):
//
//   hlc := wallMs:u64be logical:u32be nodeId:utf8[rest, 1..255 bytes]

import { assert } from '../../io/assert.ts';
import { readUint32Be } from '../../io/byte_order.ts';
import type { Clock } from '../../io/clock.ts';
import type { NodeId } from '../../io/network.ts';
import { VersionFormatError } from './errors.ts';

export interface Hlc {
  /** Milliseconds since the Unix epoch: the largest wall time this node has heard of. */
  readonly wallMs: number;
  /** Orders events that share a wallMs. */
  readonly logical: number;
  /** The node that issued the timestamp; the last tie-breaker. */
  readonly nodeId: NodeId;
}

export const MAX_WALL_MS = Number.MAX_SAFE_INTEGER;
export const MAX_LOGICAL = 0xffff_ffff;
export const MAX_NODE_ID_BYTES = 255;
/** CockroachDB's default maximum clock offset; keyspaces and tests may choose another bound. */
export const DEFAULT_MAX_SKEW_MS = 500;
export const HLC_FIXED_BYTES = 12;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Node ids in Unicode code point order, which is also the bytewise order of
 * their UTF-8 encodings (plain `<` on JS strings compares UTF-16 code units,
 * which disagrees for characters above U+FFFF).
 */
export function compareNodeIds(a: NodeId, b: NodeId): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return codePointRank(ca) - codePointRank(cb);
  }
  return a.length - b.length;
}

// Surrogates encode code points above U+FFFF, so they rank above U+E000..U+FFFF.
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Total order: wall time, then logical counter, then node id. */
export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  return compareNodeIds(a.nodeId, b.nodeId);
}

/** Order of (wallMs, logical) alone: what causality guarantees, whatever the node ids. */
function compareTime(a: Hlc, b: Hlc): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  return a.logical - b.logical;
}

export function formatHlc(ts: Hlc): string {
  return `${ts.wallMs}.${ts.logical}@${ts.nodeId}`;
}

// A cluster has few node ids and every stored version names some: their
// checked UTF-8 encodings are kept instead of being redone per timestamp.
const validNodeIds = new Map<string, Uint8Array>();
const VALID_NODE_IDS_KEPT = 4096;

/** Why a node id is unusable, or null when it is fine. */
export function nodeIdProblem(nodeId: unknown): string | null {
  if (typeof nodeId !== 'string') return 'node id is not a string';
  if (validNodeIds.has(nodeId)) return null;
  if (nodeId.length === 0) return 'node id is empty';
  const bytes = utf8Encoder.encode(nodeId);
  if (bytes.length > MAX_NODE_ID_BYTES) return `node id is ${bytes.length} UTF-8 bytes, more than ${MAX_NODE_ID_BYTES}`;
  // A lone surrogate would encode as U+FFFD and come back as a different id.
  if (utf8Decoder.decode(bytes) !== nodeId) return 'node id is not well-formed Unicode';
  if (validNodeIds.size >= VALID_NODE_IDS_KEPT) validNodeIds.clear();
  validNodeIds.set(nodeId, bytes);
  return null;
}

/** The UTF-8 bytes of a valid node id (shared: callers copy, never write). */
function nodeIdBytes(nodeId: NodeId): Uint8Array {
  const problem = nodeIdProblem(nodeId);
  if (problem !== null) assert(false, `node id: ${problem}`);
  return validNodeIds.get(nodeId) ?? utf8Encoder.encode(nodeId);
}

/** Why `ts` is not a valid timestamp, or null when it is. */
export function hlcProblem(ts: Hlc): string | null {
  if (!Number.isInteger(ts.wallMs) || ts.wallMs < 0 || ts.wallMs > MAX_WALL_MS) return `hlc wallMs out of range: ${ts.wallMs}`;
  if (!Number.isInteger(ts.logical) || ts.logical < 0 || ts.logical > MAX_LOGICAL) return `hlc logical out of range: ${ts.logical}`;
  return nodeIdProblem(ts.nodeId);
}

export function encodeHlc(ts: Hlc): Uint8Array {
  const out = new Uint8Array(encodedHlcLength(ts));
  writeHlc(out, 0, ts);
  return out;
}

/** Bytes encodeHlc(ts) takes. */
export function encodedHlcLength(ts: Hlc): number {
  return HLC_FIXED_BYTES + nodeIdBytes(ts.nodeId).length;
}

/** Writes encodeHlc(ts) into `out` at `offset`; returns the offset after it. */
export function writeHlc(out: Uint8Array, offset: number, ts: Hlc): number {
  if (!(Number.isSafeInteger(ts.wallMs) && ts.wallMs >= 0)) assert(false, `encodeHlc: wallMs out of range: ${ts.wallMs}`);
  if (!(Number.isInteger(ts.logical) && ts.logical >= 0 && ts.logical <= MAX_LOGICAL)) assert(false, `encodeHlc: logical out of range: ${ts.logical}`);
  const node = nodeIdBytes(ts.nodeId);
  assert(offset + HLC_FIXED_BYTES + node.length <= out.length, 'writeHlc: no room');
  // Big-endian by hand: a DataView per timestamp cost more than the writes.
  writeUint32Be(out, offset, Math.floor(ts.wallMs / 0x1_0000_0000));
  writeUint32Be(out, offset + 4, ts.wallMs >>> 0);
  writeUint32Be(out, offset + 8, ts.logical);
  out.set(node, offset + HLC_FIXED_BYTES);
  return offset + HLC_FIXED_BYTES + node.length;
}

function writeUint32Be(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

export function decodeHlc(bytes: Uint8Array): Hlc {
  return decodeHlcAt(bytes, 0, bytes.length);
}

/** decodeHlc(bytes.subarray(from, to)) without the view: stored versions are decoded on every replica read and write. */
export function decodeHlcAt(bytes: Uint8Array, from: number, to: number): Hlc {
  assert(from >= 0 && from <= to && to <= bytes.length, 'decodeHlcAt: range inside the bytes');
  const length = to - from;
  if (length < HLC_FIXED_BYTES + 1) throw new VersionFormatError(`hlc needs at least ${HLC_FIXED_BYTES + 1} bytes, got ${length}`);
  if (length > HLC_FIXED_BYTES + MAX_NODE_ID_BYTES) throw new VersionFormatError(`hlc of ${length} bytes is too long`);
  const high = readUint32Be(bytes, from);
  if (high > 0x1f_ffff) throw new VersionFormatError('hlc wallMs exceeds 2^53 - 1');
  const wallMs = high * 0x1_0000_0000 + readUint32Be(bytes, from + 4);
  const logical = readUint32Be(bytes, from + 8);
  return { wallMs, logical, nodeId: decodeNodeId(bytes, from + HLC_FIXED_BYTES, to) };
}

// A cluster has few node ids and every decoded timestamp names one: the
// strings of recent ASCII ids are kept in a small table indexed by a hash of
// their bytes, so decoding one is a comparison rather than a new string.
const NODE_ID_SLOTS = 64;
const nodeIdSlotBytes: (Uint8Array | undefined)[] = new Array(NODE_ID_SLOTS).fill(undefined);
const nodeIdSlotStrings: string[] = new Array(NODE_ID_SLOTS).fill('');

function decodeNodeId(bytes: Uint8Array, from: number, to: number): NodeId {
  let ascii = true;
  let h = to - from;
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) {
      ascii = false;
      break;
    }
    h = (Math.imul(h, 31) + b) | 0;
  }
  if (!ascii) {
    try {
      return utf8Decoder.decode(bytes.subarray(from, to));
    } catch {
      throw new VersionFormatError('hlc node id is not valid UTF-8');
    }
  }
  const slot = (h ^ (h >>> 7)) & (NODE_ID_SLOTS - 1);
  const known = nodeIdSlotBytes[slot];
  if (known !== undefined && known.length === to - from) {
    let same = true;
    for (let i = 0; i < known.length && same; i++) same = known[i] === bytes[from + i];
    if (same) return nodeIdSlotStrings[slot]!;
  }
  // ASCII (every node id in practice) reads the same as UTF-8, without the decoder's call.
  const kept = bytes.slice(from, to);
  const nodeId = String.fromCharCode.apply(null, kept as unknown as number[]);
  nodeIdSlotBytes[slot] = kept;
  nodeIdSlotStrings[slot] = nodeId;
  return nodeId;
}

export type HlcReceiveResult =
  | { readonly accepted: true; readonly timestamp: Hlc }
  /** The remote clock is too far ahead; this clock did not move. */
  | { readonly accepted: false; readonly aheadByMs: number };

export interface HlcOptions {
  /** How far a remote timestamp may be ahead of the local wall clock and still be accepted. */
  maxSkewMs?: number;
  /** A timestamp this clock must stay above: the last one persisted before a restart. */
  after?: Hlc;
}

/** One node's hybrid logical clock. */
export class HybridLogicalClock {
  readonly maxSkewMs: number;
  private wallMs = 0;
  private logical = 0;
  private rejectedCount = 0;

  constructor(
    private readonly clock: Clock,
    readonly nodeId: NodeId,
    options: HlcOptions = {},
  ) {
    const problem = nodeIdProblem(nodeId);
    assert(problem === null, `HybridLogicalClock: ${problem}`);
    this.maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    assert(Number.isInteger(this.maxSkewMs) && this.maxSkewMs >= 0, `maxSkewMs invalid: ${this.maxSkewMs}`);
    if (options.after) {
      const afterProblem = hlcProblem(options.after);
      assert(afterProblem === null, `HybridLogicalClock after: ${afterProblem}`);
      this.wallMs = options.after.wallMs;
      this.logical = options.after.logical;
    }
  }

  /** The latest timestamp issued or received (the state, not a new event). */
  last(): Hlc {
    return { wallMs: this.wallMs, logical: this.logical, nodeId: this.nodeId };
  }

  /** How many remote timestamps were refused for being too far ahead. */
  get rejected(): number {
    return this.rejectedCount;
  }

  /** A timestamp for a local event or a message about to be sent. */
  now(): Hlc {
    const before = this.last();
    const pt = this.physicalMs();
    if (pt > this.wallMs) {
      this.wallMs = pt;
      this.logical = 0;
    } else {
      this.advance(this.wallMs, this.logical + 1);
    }
    const ts = this.last();
    if (!(compareTime(before, ts) < 0)) assert(false, `hlc went backwards: ${formatHlc(before)} then ${formatHlc(ts)}`);
    return ts;
  }

  /**
   * Folds in the timestamp of a received message and returns the receive
   * event's timestamp, which is above both the remote one and every earlier
   * local one.
   *
   * A remote timestamp more than maxSkewMs ahead of the local wall clock is
   * refused and the clock does not move. Without the bound, one node whose
   * clock runs a day fast would drag every clock it talks to a day ahead; the
   * HLC never comes back down, so every write stamped anywhere in the cluster
   * would outrank writes made later by correctly-clocked nodes, and under LWW
   * those later writes would be lost for as long as the cluster runs.
   */
  update(remote: Hlc): HlcReceiveResult {
    const problem = hlcProblem(remote);
    if (problem !== null) assert(false, `hlc update: ${problem}`);
    const pt = this.physicalMs();
    if (remote.wallMs > pt + this.maxSkewMs) {
      this.rejectedCount++;
      return { accepted: false, aheadByMs: remote.wallMs - pt };
    }
    const before = this.last();
    const l = Math.max(this.wallMs, remote.wallMs, pt);
    if (l === this.wallMs && l === remote.wallMs) this.advance(l, Math.max(this.logical, remote.logical) + 1);
    else if (l === this.wallMs) this.advance(l, this.logical + 1);
    else if (l === remote.wallMs) this.advance(l, remote.logical + 1);
    else this.advance(l, 0);
    const ts = this.last();
    if (!(compareTime(before, ts) < 0)) assert(false, `hlc went backwards on receive: ${formatHlc(before)} then ${formatHlc(ts)}`);
    if (!(compareTime(remote, ts) < 0)) assert(false, `hlc receive not after send: ${formatHlc(remote)} then ${formatHlc(ts)}`);
    return { accepted: true, timestamp: ts };
  }

  // A logical counter past its encodable range rolls into the next
  // millisecond: still above everything before it, and only ever 1 ms ahead.
  private advance(wallMs: number, logical: number): void {
    if (logical > MAX_LOGICAL) {
      assert(wallMs < MAX_WALL_MS, 'hlc wallMs exhausted');
      this.wallMs = wallMs + 1;
      this.logical = 0;
    } else {
      this.wallMs = wallMs;
      this.logical = logical;
    }
  }

  private physicalMs(): number {
    const pt = Math.floor(this.clock.wallMs());
    if (!(Number.isSafeInteger(pt) && pt >= 0)) assert(false, `wall clock reading out of range: ${pt}`);
    return pt;
  }
}
