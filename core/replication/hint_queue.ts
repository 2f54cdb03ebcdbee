// Hinted handoff: writes a fallback node took for a home replica that was
// down, kept durably until that replica acknowledges them.
//
// A hint is one engine record per (keyspace, key, target) (layout in
// storage_keys.ts), holding the merge of every version handed to this node
// for that target, so hints for a hot key do not pile up:
//
//   hint record := createdAtMs:u64be versioned[rest] (versioned_value.ts)
//
// createdAtMs is when the oldest write in it arrived (this node's wall
// clock); a hint older than the window is dropped (counted): by then the
// target has been gone long enough that anti-entropy, not handoff, repairs it.
// Each target holds at most maxPerTarget hints; a write that needs one more
// is refused (definitely: the fallback stored nothing).
//
// Replay runs on a timer: for each target the liveness view believes up, the
// oldest hints are sent as ordinary replica writes, paced by a token bucket
// of replayBytesPerSec so that handoff never crowds out client traffic, with
// a few in flight per target. An acknowledged hint is deleted, unless it
// changed while in flight (it is then sent again).

import { assert } from '../../io/assert.ts';
import type { Clock } from '../../io/clock.ts';
import type { NodeId } from '../../io/network.ts';
import type { Engine } from '../storage/engine.ts';
import { CorruptionError } from '../storage/errors.ts';
import { VersionFormatError } from '../versioning/errors.ts';
import { type VersionedValue, decodeVersionedValue, encodeVersionedValue, mergeVersionedValues } from '../versioning/versioned_value.ts';
import { mapKey, type RecordWriter } from './record_writer.ts';
import { hintKey, hintRangePrefix, parseHintKey, prefixEnd } from './storage_keys.ts';

export interface HintOptions {
  windowMs: number;
  maxPerTarget: number;
  replayBytesPerSec: number;
  /** Hints of one target in flight at once. */
  maxInflightPerTarget: number;
}

/** The fallback already holds as many hints for the target as it may. */
export class HintLimitError extends Error {
  override name = 'HintLimitError';
}

interface HintMeta {
  readonly ks: string;
  readonly key: Uint8Array;
  readonly target: NodeId;
  readonly storageKey: Uint8Array;
  createdAtMs: number;
  /** Bumped by every store, so an acknowledgement of an older send does not delete a newer merge. */
  generation: number;
  inflight: boolean;
}

export type HintSender = (target: NodeId, ks: string, key: Uint8Array, value: VersionedValue, done: (acknowledged: boolean) => void) => void;

const CREATED_BYTES = 8;

export class HintQueue {
  private readonly byTarget = new Map<NodeId, Map<string, HintMeta>>();
  private tokens = 0;
  private lastRefillMs: number;
  private readonly counters = { stored: 0, replayed: 0, expired: 0, refused: 0, unreadable: 0 };

  private constructor(
    private readonly writer: RecordWriter,
    private readonly clock: Clock,
    private readonly options: HintOptions,
  ) {
    assert(options.windowMs > 0 && options.maxPerTarget >= 1 && options.replayBytesPerSec > 0 && options.maxInflightPerTarget >= 1, 'hint options');
    this.lastRefillMs = clock.monotonicMs();
  }

  /** Rebuilds the index from the engine. */
  static load(engine: Engine, writer: RecordWriter, clock: Clock, options: HintOptions): HintQueue {
    const q = new HintQueue(writer, clock, options);
    const prefix = hintRangePrefix();
    const cursor = engine.iterator({ start: prefix, end: prefixEnd(prefix)! });
    try {
      for (let kv = cursor.next(); kv !== undefined; kv = cursor.next()) {
        const parsed = parseHintKey(kv.key);
        const record = decodeHintRecord(kv.value);
        if (parsed === null || record === null) {
          q.counters.unreadable++;
          continue;
        }
        q.index(parsed.target).set(mapKey(kv.key), { ...parsed, storageKey: kv.key, createdAtMs: record.createdAtMs, generation: 0, inflight: false });
      }
    } finally {
      cursor.close();
    }
    return q;
  }

  /** Merges `value` into the hint for (ks, key, target); calls back once durable. */
  store(ks: string, key: Uint8Array, target: NodeId, value: VersionedValue, cb: (err: Error | null) => void): void {
    const storageKey = hintKey(ks, key, target);
    const index = this.index(target);
    const k = mapKey(storageKey);
    let meta = index.get(k);
    if (meta === undefined && index.size >= this.options.maxPerTarget) {
      this.counters.refused++;
      cb(new HintLimitError(`already holding ${index.size} hints for ${target} (limit ${this.options.maxPerTarget})`));
      return;
    }
    const previous = decodeHintRecord(this.latestOrNone(storageKey));
    let merged: VersionedValue;
    try {
      merged = previous === null ? value : mergeVersionedValues(previous.value, value);
    } catch (err) {
      cb(err as Error);
      return;
    }
    const createdAtMs = previous?.createdAtMs ?? Math.floor(this.clock.wallMs());
    if (meta === undefined) {
      meta = { ks, key: key.slice(), target, storageKey, createdAtMs, generation: 0, inflight: false };
      index.set(k, meta);
    }
    meta.createdAtMs = createdAtMs;
    meta.generation++;
    this.counters.stored++;
    this.writer.put(storageKey, encodeHintRecord(createdAtMs, merged), undefined, cb);
  }

  /** The acknowledged hint for (ks, key, target), or null. */
  read(ks: string, key: Uint8Array, target: NodeId): VersionedValue | null {
    return decodeHintRecord(this.writer.durable(hintKey(ks, key, target)))?.value ?? null;
  }

  /** Hints waiting, per target (targets with none left out). */
  pending(): Map<NodeId, number> {
    const out = new Map<NodeId, number>();
    for (const target of [...this.byTarget.keys()].sort()) {
      const n = this.byTarget.get(target)!.size;
      if (n > 0) out.set(target, n);
    }
    return out;
  }

  get stats(): Readonly<{ stored: number; replayed: number; expired: number; refused: number; unreadable: number }> {
    return this.counters;
  }

  /** One replay round: drops expired hints, then sends what the byte budget allows to targets that are up. */
  replay(isUp: (node: NodeId) => boolean, send: HintSender): void {
    this.refill();
    const now = Math.floor(this.clock.wallMs());
    for (const target of [...this.byTarget.keys()].sort()) {
      const index = this.byTarget.get(target)!;
      for (const [k, meta] of index) {
        if (meta.inflight || now - meta.createdAtMs <= this.options.windowMs) continue;
        index.delete(k);
        this.counters.expired++;
        this.writer.remove(meta.storageKey, () => {});
      }
      if (!isUp(target)) continue;
      let inflight = 0;
      for (const meta of index.values()) if (meta.inflight) inflight++;
      for (const [k, meta] of index) {
        if (inflight >= this.options.maxInflightPerTarget) break;
        if (meta.inflight) continue;
        const bytes = this.latestOrNone(meta.storageKey);
        const record = decodeHintRecord(bytes);
        if (bytes === undefined || record === null) {
          index.delete(k);
          if (bytes !== undefined) this.counters.unreadable++;
          continue;
        }
        if (this.tokens < Math.min(bytes.length, this.bucketBytes())) return;
        this.tokens -= bytes.length;
        inflight++;
        this.send(index, k, meta, record.value, send);
      }
    }
  }

  private send(index: Map<string, HintMeta>, k: string, meta: HintMeta, value: VersionedValue, send: HintSender): void {
    meta.inflight = true;
    const generation = meta.generation;
    send(meta.target, meta.ks, meta.key, value, (acknowledged) => {
      meta.inflight = false;
      if (!acknowledged || index.get(k) !== meta || meta.generation !== generation) return;
      index.delete(k);
      this.counters.replayed++;
      this.writer.remove(meta.storageKey, () => {});
    });
  }

  /** The newest record, or undefined when absent or unreadable (a corrupt hint is dropped; repair covers it). */
  private latestOrNone(storageKey: Uint8Array): Uint8Array | undefined {
    try {
      return this.writer.latest(storageKey);
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      this.counters.unreadable++;
      return undefined;
    }
  }

  private bucketBytes(): number {
    return Math.max(this.options.replayBytesPerSec, 1);
  }

  private refill(): void {
    const now = this.clock.monotonicMs();
    const elapsed = Math.max(0, now - this.lastRefillMs);
    this.lastRefillMs = now;
    this.tokens = Math.min(this.bucketBytes(), this.tokens + (this.options.replayBytesPerSec * elapsed) / 1000);
  }

  private index(target: NodeId): Map<string, HintMeta> {
    let index = this.byTarget.get(target);
    if (index === undefined) {
      index = new Map();
      this.byTarget.set(target, index);
    }
    return index;
  }
}

export function encodeHintRecord(createdAtMs: number, value: VersionedValue): Uint8Array {
  assert(Number.isSafeInteger(createdAtMs) && createdAtMs >= 0, `hint createdAtMs ${createdAtMs}`);
  const body = encodeVersionedValue(value);
  const out = new Uint8Array(CREATED_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(createdAtMs / 0x1_0000_0000), false);
  view.setUint32(4, createdAtMs >>> 0, false);
  out.set(body, CREATED_BYTES);
  return out;
}

/** The record's parts, or null when absent or unreadable. */
export function decodeHintRecord(bytes: Uint8Array | undefined): { createdAtMs: number; value: VersionedValue } | null {
  if (bytes === undefined || bytes.length <= CREATED_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = view.getUint32(0, false);
  if (high > 0x1f_ffff) return null;
  try {
    return { createdAtMs: high * 0x1_0000_0000 + view.getUint32(4, false), value: decodeVersionedValue(bytes.subarray(CREATED_BYTES)) };
  } catch (err) {
    if (err instanceof VersionFormatError) return null;
    throw err;
  }
}
