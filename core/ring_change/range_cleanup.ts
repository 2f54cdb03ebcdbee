// Dropping the records of ranges a node no longer replicates.
//
// When a join moves ranges to a new node, their old owners keep their copies.
// That wastes disk, and it is a trap: while a node is not a replica of a range
// it gets none of the range's writes or deletes, and once the deletes'
// tombstones are purged (after the grace period) its old copies are the last
// trace of values that were deleted. If the range later comes back to it (the
// new node is decommissioned or removed), the stream merges into those
// copies, and read repair and anti-entropy spread the deleted values again
// (scenario range-regained). Cassandra leaves this to the operator
// (`nodetool cleanup`); here every node does it by itself:
//
// - A pass starts once the node's topology has no move in progress and is
//   settled (ring_phase_driver.ts's rule: every live member reports the same
//   version and settleMs have passed, so no request placed by an older
//   topology is still landing here).
// - It walks the replica records a step of STEP_KEYS at a time, reading
//   around the block cache (the walk must not push out hot blocks), and
//   removes every record whose key the node is not a home replica of under
//   that topology; a step's removals are durable before the next starts.
//   Records of keyspaces the node does not know are kept.
// - A new topology version stops a pass; the next starts over once that
//   version settles. Corrupt data stops a pass too (the engine reports the
//   table); the next waits RETRY_AFTER_CORRUPTION_MS. Only a finished pass records its version (meta
//   `range-cleanup`, the version in decimal), so a crash mid-pass walks
//   again after the restart, and a restart under the same topology does not.
//
// A range cannot come back before its old owner's pass has dropped it in a
// way that matters: resurrection needs a tombstone purged, so a grace period
// (days) between the move and the return, and a pass takes minutes. A node
// down for longer than the grace period is rebuilt from scratch anyway
// (replica_rebuild.ts), and no pass runs while a rebuild is needed.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import type { TimerId, Timers } from '../../io/timers.ts';
import { keyToken } from '../ring/key_hash.ts';
import type { Topology } from '../ring/topology.ts';
import type { RecordWriter } from '../replication/record_writer.ts';
import { REPLICA_TAG, keySuccessor, parseReplicaKey, prefixEnd } from '../replication/storage_keys.ts';
import type { Engine } from '../storage/engine.ts';
import { CorruptionError } from '../storage/errors.ts';

export const RANGE_CLEANUP_META = 'range-cleanup';
const STEP_KEYS = 256;
/** Pause between steps, so a pass over a large store leaves the node's other work room. */
const STEP_GAP_MS = 1;
/** After a pass met a corrupt table, the next waits this long (time for the table to be quarantined and repaired). */
const RETRY_AFTER_CORRUPTION_MS = 30_000;

export interface RangeCleanupDeps {
  readonly self: NodeId;
  readonly timers: Timers;
  readonly engine: Engine;
  readonly writer: RecordWriter;
  keyspaces(): readonly { name: string; replicationFactor: number }[];
  topology(): Topology;
  /** The ring's settle rule holds for the current topology. */
  settled(): boolean;
  /** false while the replica data must be left alone (a rebuild is needed or under way). */
  allowed(): boolean;
  loadMeta(name: string): Uint8Array | undefined;
  saveMeta(name: string, value: Uint8Array, cb: (err: Error | null) => void): void;
  mark(what: string): void;
}

export interface RangeCleanupProgress {
  /** The topology version the last finished pass was for; null if none has finished on this data. */
  cleanedVersion: number | null;
  /** The pass under way, if any. */
  running: { topologyVersion: number; recordsScanned: number; recordsDropped: number } | null;
  /** Records dropped by every pass since the node opened. */
  droppedSinceOpen: number;
}

/** A pass is stopped once it is no longer RangeCleanup.pass. */
interface Pass {
  readonly topology: Topology;
  /** Replication factor of each keyspace the node knows, when the pass started. */
  readonly factors: ReadonlyMap<string, number>;
  /** Where the next step resumes; null once the walk is done. */
  from: Uint8Array | null;
  scanned: number;
  dropped: number;
}

const REPLICA_RECORDS_END = prefixEnd(Uint8Array.of(REPLICA_TAG))!;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class RangeCleanup {
  private cleanedVersion: number | null;
  private pass: Pass | null = null;
  private timer: TimerId | null = null;
  private droppedSinceOpen = 0;
  private closed = false;
  /** Set for a while after a pass met corrupt data. */
  private retryBlocked = false;

  constructor(private readonly d: RangeCleanupDeps) {
    const saved = d.loadMeta(RANGE_CLEANUP_META);
    const version = saved === undefined ? Number.NaN : Number(utf8Decoder.decode(saved));
    this.cleanedVersion = Number.isSafeInteger(version) ? version : null;
  }

  get progress(): RangeCleanupProgress {
    const p = this.pass;
    return {
      cleanedVersion: this.cleanedVersion,
      running: p === null ? null : { topologyVersion: p.topology.version, recordsScanned: p.scanned, recordsDropped: p.dropped },
      droppedSinceOpen: this.droppedSinceOpen,
    };
  }

  /** Called periodically: stops a pass whose topology is gone, starts one when a settled topology has not been cleaned for. */
  tick(): void {
    if (this.closed) return;
    const t = this.d.topology();
    if (this.pass !== null) {
      if (this.pass.topology.version === t.version && !t.moving && this.d.allowed()) return;
      this.stopPass('range cleanup: pass stopped');
    }
    if (this.retryBlocked || t.moving || t.version === this.cleanedVersion || !this.d.allowed() || !this.d.settled()) return;
    const factors = new Map(this.d.keyspaces().map((k) => [k.name, k.replicationFactor]));
    this.pass = { topology: t, factors, from: Uint8Array.of(REPLICA_TAG), scanned: 0, dropped: 0 };
    this.d.mark('range cleanup: pass started');
    this.step(this.pass);
  }

  close(): void {
    this.closed = true;
    if (this.pass !== null) this.stopPass(null);
    if (this.timer !== null) this.d.timers.cancelTimer(this.timer);
    this.timer = null;
  }

  private stopPass(mark: string | null): void {
    this.pass = null;
    if (this.timer !== null) this.d.timers.cancelTimer(this.timer);
    this.timer = null;
    if (mark !== null) this.d.mark(mark);
  }

  private step(p: Pass): void {
    if (this.pass !== p) return;
    if (p.from === null) return this.finish(p);
    const drop: Uint8Array[] = [];
    let last: Uint8Array | null = null;
    try {
      const cursor = this.d.engine.iterator({ start: p.from, end: REPLICA_RECORDS_END, limit: STEP_KEYS, fillCache: false });
      try {
        for (let kv = cursor.next(); kv !== undefined; kv = cursor.next()) {
          last = kv.key;
          p.scanned++;
          if (!this.replicates(p, kv.key)) drop.push(kv.key);
        }
      } finally {
        cursor.close();
      }
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      // The engine reports the table; repair or a rebuild deals with it. Walking on would skip what it hides.
      this.stopPass('range cleanup: corrupt data, pass stopped');
      this.retryBlocked = true;
      this.timer = this.d.timers.setTimer(RETRY_AFTER_CORRUPTION_MS, () => {
        this.timer = null;
        this.retryBlocked = false;
      });
      return;
    }
    p.from = last === null ? null : keySuccessor(last);
    if (drop.length === 0) return this.next(p);
    this.d.writer.removeAll(drop, (err) => {
      if (this.pass !== p) return;
      // The engine refused (closing, or a write error it reports elsewhere): a later tick starts over.
      if (err !== null) return this.stopPass('range cleanup: removal failed');
      p.dropped += drop.length;
      this.droppedSinceOpen += drop.length;
      this.next(p);
    });
  }

  private next(p: Pass): void {
    this.timer = this.d.timers.setTimer(STEP_GAP_MS, () => {
      this.timer = null;
      this.step(p);
    });
  }

  /** Whether the node is a home replica of the record's key under the pass's topology; records it cannot place are kept. */
  private replicates(p: Pass, storageKey: Uint8Array): boolean {
    const parsed = parseReplicaKey(storageKey);
    if (parsed === null) return true;
    const n = p.factors.get(parsed.ks);
    if (n === undefined) return true;
    return p.topology.readReplicas(keyToken(parsed.key), n).includes(this.d.self);
  }

  private finish(p: Pass): void {
    const version = p.topology.version;
    this.d.saveMeta(RANGE_CLEANUP_META, utf8.encode(String(version)), (err) => {
      if (this.pass !== p) return;
      this.pass = null;
      if (err !== null) return this.d.mark('range cleanup: not persisted');
      assert(Number.isSafeInteger(version), `topology version ${version}`);
      this.cleanedVersion = version;
      this.d.mark('range cleanup: pass finished');
      if (p.dropped > 0) this.d.mark('range cleanup: records dropped');
    });
  }
}
