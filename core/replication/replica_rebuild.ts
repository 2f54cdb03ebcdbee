// Rebuilding a replica that was down longer than the tombstone grace period.
//
// Such a node may hold values that were deleted while it was away and whose
// tombstones the other replicas have since purged: served again, or merged
// into the others by read repair, hints or anti-entropy, they would come back
// to life. So its replica data is worthless as a source and is thrown away:
//
//   1. wipe: every replica record this node holds is removed (in steps of
//      bounded size, each durable before the next);
//   2. stream: every other member is scanned, keyspace by keyspace, page by
//      page (the ordinary 'scan' request, marked bulk so the peers read around
//      their block caches; it answers with acknowledged records, tombstones
//      included), and every record whose key this node
//      is a home replica of is merged in through the replica's normal merge.
//      A page that fails (peer down, timeout) is asked again after a pause:
//      the rebuild finishes only once every member has been scanned whole.
//
// A crash anywhere restarts the rebuild from the wipe (the caller keeps the
// "needs rebuild" flag durable until `onDone`). The node serves nothing
// meanwhile (StoreNode refuses), so what it streams cannot be outrun by a
// client write it would miss: writes meant for it become hints elsewhere.

import { assert } from '../../io/assert.ts';
import type { Env } from '../../io/env.ts';
import type { NodeId } from '../../io/network.ts';
import type { TimerId } from '../../io/timers.ts';
import { keyToken } from '../ring/key_hash.ts';
import type { Engine } from '../storage/engine.ts';
import type { KeyspaceConfig } from './keyspace.ts';
import type { PeerRpc } from './peer_rpc.ts';
import type { RecordWriter } from './record_writer.ts';
import type { ReplicaStore } from './replica_store.ts';
import { REPLICA_TAG, keySuccessor, prefixEnd } from './storage_keys.ts';

export interface RebuildDeps {
  readonly env: Env;
  readonly engine: Engine;
  readonly writer: RecordWriter;
  readonly replicas: ReplicaStore;
  readonly rpc: PeerRpc;
  readonly keyspaces: readonly KeyspaceConfig[];
  /** The members to stream from (every other member of the ring). */
  peers(): NodeId[];
  /** Home replicas of a token for a replication factor. */
  homeReplicas(token: bigint, n: number): NodeId[];
  readonly requestTimeoutMs: number;
  /** Pause before a failed page is asked again. */
  readonly retryMs: number;
  mark(what: string): void;
}

export interface RebuildProgress {
  phase: 'wiping' | 'streaming' | 'done';
  recordsWiped: number;
  recordsStreamed: number;
  /** (keyspace, peer) scans finished, of all. */
  scansDone: number;
  scansTotal: number;
}

const WIPE_STEP = 256;
const PAGE = 500;

export class ReplicaRebuild {
  private readonly progressNow: RebuildProgress = { phase: 'wiping', recordsWiped: 0, recordsStreamed: 0, scansDone: 0, scansTotal: 0 };
  private stopped = false;
  private retryTimer: TimerId | null = null;
  private started = false;

  constructor(private readonly d: RebuildDeps) {
    assert(d.retryMs > 0 && d.requestTimeoutMs > 0, 'rebuild timings');
  }

  get progress(): RebuildProgress {
    return { ...this.progressNow };
  }

  /** Runs the rebuild; `onDone` once every member has been streamed (never after stop). */
  start(onDone: (err: Error | null) => void): void {
    assert(!this.started, 'rebuild started twice');
    this.started = true;
    this.d.mark('rebuild started');
    this.wipeStep((err) => {
      if (err !== null) return onDone(err);
      this.progressNow.phase = 'streaming';
      const scans = this.d.keyspaces.flatMap((ks) => this.d.peers().map((peer) => ({ ks, peer })));
      this.progressNow.scansTotal = scans.length;
      this.streamAll(scans, 0, (streamErr) => {
        if (streamErr === null) {
          this.progressNow.phase = 'done';
          this.d.mark('rebuild finished');
        }
        onDone(streamErr);
      });
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) this.d.env.timers.cancelTimer(this.retryTimer);
    this.retryTimer = null;
  }

  private wipeStep(done: (err: Error | null) => void): void {
    if (this.stopped) return;
    const prefix = Uint8Array.of(REPLICA_TAG);
    const cursor = this.d.engine.iterator({ start: prefix, end: prefixEnd(prefix)!, limit: WIPE_STEP, fillCache: false });
    const keys: Uint8Array[] = [];
    try {
      for (let kv = cursor.next(); kv !== undefined; kv = cursor.next()) keys.push(kv.key);
    } finally {
      cursor.close();
    }
    if (keys.length === 0) return done(null);
    this.d.writer.removeAll(keys, (err) => {
      if (err !== null) return done(err);
      this.progressNow.recordsWiped += keys.length;
      this.wipeStep(done);
    });
  }

  private streamAll(scans: readonly { ks: KeyspaceConfig; peer: NodeId }[], i: number, done: (err: Error | null) => void): void {
    if (this.stopped) return;
    if (i === scans.length) return done(null);
    const { ks, peer } = scans[i]!;
    this.streamPages(ks, peer, null, (err) => {
      if (err !== null) return done(err);
      this.progressNow.scansDone++;
      this.streamAll(scans, i + 1, done);
    });
  }

  private streamPages(ks: KeyspaceConfig, peer: NodeId, start: Uint8Array | null, done: (err: Error | null) => void): void {
    if (this.stopped) return;
    this.d.rpc.call(peer, { t: 'scan', ks: ks.name, start, end: null, limit: PAGE, bulk: true }, this.d.requestTimeoutMs, (reply) => {
      if (this.stopped) return;
      if (reply?.t !== 'scan_ok') {
        this.d.mark('rebuild page retried');
        this.retryTimer = this.d.env.timers.setTimer(this.d.retryMs, () => {
          this.retryTimer = null;
          this.streamPages(ks, peer, start, done);
        });
        return;
      }
      const mine = reply.items.filter((item) => this.d.homeReplicas(keyToken(item.key), ks.replicationFactor).includes(this.d.env.nodeId));
      const next = reply.more && reply.items.length > 0 ? keySuccessor(reply.items[reply.items.length - 1]!.key) : null;
      const afterPage = (): void => (next === null ? done(null) : this.streamPages(ks, peer, next, done));
      if (mine.length === 0) return afterPage();
      let left = mine.length;
      let failed: Error | null = null;
      for (const item of mine) {
        this.d.replicas.apply(ks.name, item.key, item.value, (err) => {
          failed ??= err;
          if (--left > 0) return;
          if (failed !== null) return done(failed);
          this.progressNow.recordsStreamed += mine.length;
          afterPage();
        });
      }
    });
  }
}
