// Every Merkle tree a node keeps: one per (keyspace, token range) it holds
// as a home replica, for the ring it is given. The ranges are the ring's
// vnode ranges (previous token, token], so two replicas of a range cut it
// the same way and their trees compare node by node.
//
// Building: a new tree starts empty and is filled by a scan of the
// keyspace's replica records in bounded steps (buildStep), while writes keep
// landing. A write is applied to a tree at once unless the tree is still
// being built and the scan has not reached the key yet (the scan will read
// it). Tree updates are idempotent per key (range_tree.ts keeps each key's
// content), so a scan restarted for newly added ranges leaves trees that
// are already built as they are.
//
// Content of a record: the 64-bit hash of its encoded versioned value, so
// replicas holding different versions (or tombstones) of a key differ.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { murmur3x86_128Into } from '../ring/key_hash.ts';
import type { Ring } from '../ring/ring.ts';
import { engineTtlMs } from '../replication/replica_store.ts';
import { keySuccessor } from '../replication/storage_keys.ts';
import { type VersionedValue, encodeVersionedValue } from '../versioning/versioned_value.ts';
import { contentHash64, contentHashInto } from './merkle_hash.ts';
import type { MerkleShape } from './merkle_tree.ts';
import { RangeTree } from './range_tree.ts';

export interface TreeKeyspace {
  readonly name: string;
  readonly replicationFactor: number;
}

/** A range this node replicates and the other replicas to compare it with. */
export interface TreeSlot {
  readonly tree: RangeTree;
  readonly peers: readonly NodeId[];
}

/** Reads replica records in key order for the build (ReplicaStore.scan). */
export type RecordPager = (ks: string, start: Uint8Array | undefined, limit: number) => { records: { key: Uint8Array; value: VersionedValue }[]; more: boolean };

interface KeyspaceTrees {
  readonly ks: TreeKeyspace;
  /** By the ring's range index (the index of the range's end token). */
  readonly slots: Map<number, TreeSlot>;
  /** Build scan: null when no scan runs; else the key after which it continues (undefined: from the start). */
  scan: { after: Uint8Array | undefined } | null;
  /** No tree of the keyspace is built: a write before the scan starts needs no look at all. */
  noneBuilt: boolean;
}

/** `encoded`, when given, is encodeVersionedValue(value), already at hand on the write path. */
export function recordContent(value: VersionedValue, graceMs: number, encoded?: Uint8Array): { contentHash: bigint; purgeAtMs: number | null } {
  // engineTtlMs from time 0 is the absolute purge time: the last deletion or expiry plus the grace.
  const purgeAt = engineTtlMs(value, 0, graceMs);
  return { contentHash: contentHash64(encoded ?? encodeVersionedValue(value)), purgeAtMs: purgeAt === undefined ? null : purgeAt };
}

// Scratch of the write path (single-threaded; no call keeps them).
const tokenWords = new Uint32Array(4);
const tokenBytes = new DataView(new ArrayBuffer(8));
const contentWords = new Uint32Array(2);

/**
 * The key's token (key_hash.ts keyToken, which it must equal: a test checks)
 * with its two words left in tokenWords[0] (high) and tokenWords[1] (low),
 * so the trees place the key without taking the bigint apart again.
 */
export function keyTokenWords(key: Uint8Array): bigint {
  murmur3x86_128Into(key, 0, tokenWords);
  tokenBytes.setUint32(0, tokenWords[0]!);
  tokenBytes.setUint32(4, tokenWords[1]!);
  return tokenBytes.getBigUint64(0);
}

function splitToken(token: bigint): void {
  tokenWords[0] = Number(token >> 32n);
  tokenWords[1] = Number(token & 0xffff_ffffn);
}

export class ReplicaTrees {
  private ring: Ring | null = null;
  private readonly byKeyspace = new Map<string, KeyspaceTrees>();

  constructor(
    private readonly self: NodeId,
    keyspaces: readonly TreeKeyspace[],
    private readonly shape: MerkleShape,
    private readonly graceMs: number,
  ) {
    for (const ks of keyspaces) this.byKeyspace.set(ks.name, { ks, slots: new Map(), scan: null, noneBuilt: true });
  }

  /**
   * Places trees for `ring`: ranges kept keep their tree, ranges no longer
   * replicated drop theirs, new ones get an empty tree and a build scan.
   */
  setRing(ring: Ring): void {
    this.ring = ring;
    for (const kt of this.byKeyspace.values()) {
      // By end token (a bigint key compares by value); the start is checked on use.
      const old = new Map<bigint, RangeTree>();
      for (const slot of kt.slots.values()) old.set(slot.tree.range.end, slot.tree);
      kt.slots.clear();
      let added = false;
      for (let i = 0; i < ring.tokenCount; i++) {
        const replicas = ring.preferenceList(ring.tokenAt(i), kt.ks.replicationFactor);
        if (!replicas.includes(this.self)) continue;
        const range = ring.rangeAt(i);
        let tree = old.get(range.end);
        if (tree === undefined || tree.range.start !== range.start) {
          tree = new RangeTree(kt.ks.name, range, this.shape);
          added = true;
        }
        kt.slots.set(i, { tree, peers: replicas.filter((n) => n !== this.self) });
      }
      if (added) kt.scan = { after: undefined };
      kt.noneBuilt = true;
      for (const slot of kt.slots.values()) if (slot.tree.built) kt.noneBuilt = false;
    }
  }

  /** Every slot, keyspaces in configuration order, ranges in ring order. */
  slots(): TreeSlot[] {
    const out: TreeSlot[] = [];
    for (const kt of this.byKeyspace.values()) {
      const indices = [...kt.slots.keys()].sort((a, b) => a - b);
      for (const i of indices) out.push(kt.slots.get(i)!);
    }
    return out;
  }

  /** The tree of `ks` over exactly `range`, or undefined. */
  find(ks: string, start: bigint, end: bigint): RangeTree | undefined {
    const kt = this.byKeyspace.get(ks);
    if (kt === undefined) return undefined;
    for (const slot of kt.slots.values()) if (slot.tree.range.start === start && slot.tree.range.end === end) return slot.tree;
    return undefined;
  }

  get building(): boolean {
    for (const kt of this.byKeyspace.values()) if (kt.scan !== null) return true;
    return false;
  }

  /**
   * A replica record of `ks` became `value` (durable). `encoded`, when
   * given, is the record's bytes (encodeVersionedValue(value)); `token`,
   * when given, is the key's token (keyToken(key)), saving a hash of the key.
   */
  recordWritten(ks: string, key: Uint8Array, value: VersionedValue, nowMs: number, encoded?: Uint8Array, token?: bigint): void {
    const kt = this.byKeyspace.get(ks);
    if (kt === undefined || this.ring === null || this.ring.tokenCount === 0) return;
    // Trees not built yet (anti_entropy_service.ts builds them when first needed) and the scan not begun: it will read this record.
    if (kt.noneBuilt && kt.scan !== null && kt.scan.after === undefined) return;
    if (token === undefined) token = keyTokenWords(key);
    else splitToken(token);
    const slot = kt.slots.get(this.ring.tokenIndexFor(token));
    if (slot === undefined) return;
    if (!slot.tree.built && kt.scan !== null && (kt.scan.after === undefined || compareBytes(key, kt.scan.after) > 0)) return;
    this.apply(slot.tree, key, value, encoded, nowMs);
  }

  /** Sets the key's entry in `tree`; tokenWords holds the key's token. */
  private apply(tree: RangeTree, key: Uint8Array, value: VersionedValue, encoded: Uint8Array | undefined, nowMs: number): void {
    const tokenHi = tokenWords[0]!;
    const tokenLo = tokenWords[1]!;
    // engineTtlMs from time 0 is the absolute purge time: the last deletion or expiry plus the grace.
    const purgeAt = engineTtlMs(value, 0, this.graceMs);
    contentHashInto(encoded ?? encodeVersionedValue(value), contentWords);
    tree.setWords(tokenHi, tokenLo, key, contentWords[0]!, contentWords[1]!, purgeAt === undefined ? null : purgeAt, nowMs);
  }

  /**
   * One bounded step of the build scans: reads at most `maxRecords` records
   * into the trees being built. Returns whether a scan still has work.
   */
  buildStep(pager: RecordPager, maxRecords: number, nowMs: number): boolean {
    assert(Number.isInteger(maxRecords) && maxRecords >= 1, `build step of ${maxRecords}`);
    const kt = [...this.byKeyspace.values()].find((k) => k.scan !== null);
    if (kt === undefined || this.ring === null) return false;
    const scan = kt.scan!;
    const page = pager(kt.ks.name, scan.after === undefined ? undefined : keySuccessor(scan.after), maxRecords);
    for (const r of page.records) {
      const slot = kt.slots.get(this.ring.tokenIndexFor(keyTokenWords(r.key)));
      if (slot !== undefined && !slot.tree.built) this.apply(slot.tree, r.key, r.value, undefined, nowMs);
      scan.after = r.key;
    }
    if (!page.more) this.finishScan(kt);
    return this.building;
  }

  /** Ends the build of a keyspace's trees where the scan cannot go on (an unreadable record): repair fills what it missed. */
  abandonScan(ks: string): void {
    const kt = this.byKeyspace.get(ks);
    if (kt !== undefined && kt.scan !== null) this.finishScan(kt);
  }

  /** Name of the keyspace whose trees the next build step reads, or null. */
  scanningKeyspace(): string | null {
    for (const kt of this.byKeyspace.values()) if (kt.scan !== null) return kt.ks.name;
    return null;
  }

  /** Takes out entries whose purge time has come, in every tree. */
  sweep(nowMs: number): number {
    let n = 0;
    for (const kt of this.byKeyspace.values()) for (const slot of kt.slots.values()) n += slot.tree.sweep(nowMs);
    return n;
  }

  private finishScan(kt: KeyspaceTrees): void {
    kt.scan = null;
    kt.noneBuilt = false;
    for (const slot of kt.slots.values()) slot.tree.built = true;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
