// A node's anti-entropy: Merkle trees over the ranges it replicates
// (replica_trees.ts), kept as writes land, and exchanges with the other
// replicas of each range that stream only the keys that differ
// (exchange_runner.ts).
//
// Scheduling: every intervalMs the next (range, peer) pair in round-robin
// order is compared, skipping peers believed down and trees still building.
// One exchange runs at a time per node (scheduled or operator-started), and
// its traffic is paced by a byte rate. Operator repairs (repair()) queue
// their pairs ahead of the schedule and report progress after each pair.
//
// The responder side answers exchanges other nodes start: one MerkleExchange
// per (peer, exchange id), forgotten when it ends or goes quiet.
//
// Trees are built when first needed: the schedule's first pick, an operator
// repair, or a peer asking to compare a range. Until then a write costs no
// tree upkeep (a tree whose build has not reached a key ignores it; the build
// reads it from the store), which matters for a node restarted often, and
// for one whose first exchange is still far off. Once wanted, trees are kept
// as writes land and new ranges are built at once. A peer refused because a
// tree was still building is asked again during an operator repair.

import { assert } from '../../io/assert.ts';
import type { Env } from '../../io/env.ts';
import type { NodeId } from '../../io/network.ts';
import type { TimerId } from '../../io/timers.ts';
import type { Message } from '../replication/messages.ts';
import type { OutgoingRequest, ReplyTo } from '../replication/peer_rpc.ts';
import type { ReplicaStore } from '../replication/replica_store.ts';
import type { Ring } from '../ring/ring.ts';
import { type TokenRange, rangeContains } from '../ring/token_range.ts';
import { CorruptionError } from '../storage/errors.ts';
import type { AntiEntropyOptions } from './anti_entropy_options.ts';
import { ByteThrottle } from './byte_throttle.ts';
import { type ExchangeReport, runExchange } from './exchange_runner.ts';
import { hashFromBytes } from './merkle_hash.ts';
import { MerkleExchange } from './merkle_exchange.ts';
import type { MerkleMessage } from './merkle_messages.ts';
import type { RangeTree } from './range_tree.ts';
import { ReplicaTrees, type TreeKeyspace } from './replica_trees.ts';

export type RepairScope = { keyspace?: string; range?: TokenRange } | 'all';

export interface RepairProgress {
  /** (range, peer) pairs the repair covers. */
  pairs: number;
  done: number;
  inSync: number;
  repaired: number;
  /** Pairs whose peer was believed down, or whose exchange failed. */
  skipped: number;
  failed: number;
  keysRepaired: number;
  bytes: number;
  finished: boolean;
}

export interface AntiEntropyStatus {
  enabled: boolean;
  trees: number;
  treesBuilt: number;
  keysTracked: number;
  exchangesStarted: number;
  /** Exchanges that ran to the end: the range was compared with one peer. */
  rangesCompared: number;
  rangesInSync: number;
  exchangesFailed: number;
  skippedPeerDown: number;
  keysReceived: number;
  keysSent: number;
  bytesExchanged: number;
  entriesPurged: number;
  /** The repair running now, or null. */
  repair: RepairProgress | null;
  /** The last repair that finished, or null. */
  lastRepair: RepairProgress | null;
}

export interface AntiEntropyDeps {
  readonly env: Env;
  readonly call: (to: NodeId, request: OutgoingRequest, timeoutMs: number, onReply: (reply: Message | null) => void) => void;
  readonly isUp: (node: NodeId) => boolean;
  readonly replicas: ReplicaStore;
  readonly keyspaces: readonly TreeKeyspace[];
  readonly graceMs: number;
  readonly requestTimeoutMs: number;
  readonly options: AntiEntropyOptions;
  mark(what: string): void;
}

interface Pair {
  readonly tree: RangeTree;
  readonly peer: NodeId;
}

/** Times an operator repair asks a peer again that refused while building, and the pause before each. */
const BUILDING_RETRIES = 20;
const BUILDING_RETRY_MS = 50;

interface RepairJob {
  readonly pairs: Pair[];
  next: number;
  /** Refusals (tree still building) of the current pair so far. */
  refused: number;
  /** Monotonic time before which the next pair does not start. */
  notBeforeMs: number;
  readonly progress: RepairProgress;
  readonly onProgress: (p: RepairProgress) => void;
  readonly cb: (err: Error | null, p: RepairProgress) => void;
}

interface Responding {
  readonly exchange: MerkleExchange;
  lastMs: number;
}

export class AntiEntropyService {
  private readonly trees: ReplicaTrees;
  private readonly throttle: ByteThrottle;
  private readonly responding = new Map<string, Responding>();
  private readonly timers = new Set<TimerId>();
  private cursor = 0;
  private running = false;
  private closed = false;
  private repairJob: RepairJob | null = null;
  private lastRepair: RepairProgress | null = null;
  private building = false;
  /** Whether anything has needed the trees yet (they are built only then). */
  private wanted = false;
  private readonly counters = {
    exchangesStarted: 0,
    rangesCompared: 0,
    rangesInSync: 0,
    exchangesFailed: 0,
    skippedPeerDown: 0,
    keysReceived: 0,
    keysSent: 0,
    bytesExchanged: 0,
    entriesPurged: 0,
  };

  constructor(
    private readonly d: AntiEntropyDeps,
    ring: Ring,
  ) {
    const o = d.options;
    this.trees = new ReplicaTrees(d.env.nodeId, d.keyspaces, { leafBits: o.leafBits, fanoutBits: o.fanoutBits }, d.graceMs);
    this.throttle = new ByteThrottle(d.env.clock, d.env.timers, o.bytesPerSec);
    this.setRing(ring);
    this.tickLater();
  }

  /** The ranges this node replicates changed: trees follow (kept, dropped, or new and built in the background). */
  setRing(ring: Ring): void {
    this.trees.setRing(ring);
    this.cursor = 0;
    if (this.wanted) this.scheduleBuild();
  }

  /** ReplicaStore's write hook; `token`, when the caller has it, is keyToken(key). */
  recordWritten(ks: string, key: Uint8Array, value: Parameters<ReplicaTrees['recordWritten']>[2], encoded?: Uint8Array, token?: bigint): void {
    if (this.closed) return;
    this.trees.recordWritten(ks, key, value, this.d.env.clock.wallMs(), encoded, token);
  }

  /**
   * Compares the ranges in `scope` with every other replica of each, one
   * pair at a time, streaming what differs. `onProgress` after each pair; `cb`
   * once all are done (an error only when the repair could not start).
   */
  repair(scope: RepairScope, onProgress: (p: RepairProgress) => void, cb: (err: Error | null, p: RepairProgress) => void): void {
    const progress: RepairProgress = { pairs: 0, done: 0, inSync: 0, repaired: 0, skipped: 0, failed: 0, keysRepaired: 0, bytes: 0, finished: false };
    if (this.closed) return cb(new Error('node is closed'), progress);
    if (scope !== 'all' && scope.keyspace !== undefined && !this.d.keyspaces.some((k) => k.name === scope.keyspace)) {
      return cb(new Error(`keyspace ${scope.keyspace} is not configured`), progress);
    }
    if (this.repairJob !== null) return cb(new Error('a repair is already running on this node'), progress);
    const pairs: Pair[] = [];
    for (const slot of this.trees.slots()) {
      if (scope !== 'all' && scope.keyspace !== undefined && slot.tree.keyspace !== scope.keyspace) continue;
      if (scope !== 'all' && scope.range !== undefined && !rangeContains(scope.range, slot.tree.range.end)) continue;
      for (const peer of slot.peers) pairs.push({ tree: slot.tree, peer });
    }
    progress.pairs = pairs.length;
    this.repairJob = { pairs, next: 0, refused: 0, notBeforeMs: 0, progress, onProgress, cb };
    this.d.mark('anti-entropy repair started');
    this.d.env.timers.setTimer(0, () => this.pump());
  }

  status(): AntiEntropyStatus {
    const slots = this.trees.slots();
    return {
      enabled: this.d.options.enabled,
      trees: slots.length,
      treesBuilt: slots.filter((s) => s.tree.built).length,
      keysTracked: slots.reduce((n, s) => n + s.tree.keyCount, 0),
      ...this.counters,
      repair: this.repairJob === null ? null : { ...this.repairJob.progress },
      lastRepair: this.lastRepair === null ? null : { ...this.lastRepair },
    };
  }

  /** Answers one message of an exchange another node started. */
  handle(from: NodeId, request: Extract<Message, { t: 'merkle' }>, reply: ReplyTo): void {
    const answer = (body: MerkleMessage[]): void => reply({ t: 'merkle_reply', id: request.id, body });
    const m = request.body;
    const key = `${from}/${m.exchange}`;
    const now = this.d.env.clock.monotonicMs();
    let r = this.responding.get(key);
    if (m.type === 'merkle_root' && r === undefined) {
      const tree = this.trees.find(request.ks, hashFromBytes(m.range, 0), hashFromBytes(m.range, 8));
      if (tree === undefined || !tree.built) {
        if (tree !== undefined) this.want();
        this.d.mark('anti-entropy exchange refused');
        return answer([{ type: 'merkle_abort', exchange: m.exchange, reason: tree === undefined ? 'range not replicated here' : 'tree still building' }]);
      }
      r = { exchange: new MerkleExchange('responder', { exchange: m.exchange, tree: tree.tree, entries: tree, maxKeysPerMessage: this.d.options.maxKeysPerMessage }), lastMs: now };
      this.responding.set(key, r);
    }
    if (r === undefined) return answer(m.type === 'merkle_abort' || m.type === 'merkle_in_sync' ? [] : [{ type: 'merkle_abort', exchange: m.exchange, reason: 'unknown exchange' }]);
    r.lastMs = now;
    const out = r.exchange.receive(m);
    if (r.exchange.finished) this.responding.delete(key);
    answer(out);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) this.d.env.timers.cancelTimer(t);
    this.timers.clear();
    this.responding.clear();
  }

  // ---- internals ----

  private later(ms: number, fn: () => void): void {
    const id = this.d.env.timers.setTimer(ms, () => {
      this.timers.delete(id);
      if (!this.closed) fn();
    });
    this.timers.add(id);
  }

  private tickLater(): void {
    this.later(this.d.options.intervalMs, () => {
      this.tick();
      this.tickLater();
    });
  }

  private tick(): void {
    const now = this.d.env.clock.wallMs();
    this.counters.entriesPurged += this.trees.sweep(now);
    // Responders whose initiator went away.
    const mono = this.d.env.clock.monotonicMs();
    for (const [key, r] of this.responding) if (mono - r.lastMs > 4 * this.d.requestTimeoutMs) this.responding.delete(key);
    if (this.d.options.enabled) this.pump();
  }

  /** Something needs the trees: build them (and from now on, any new ones at once). */
  private want(): void {
    this.wanted = true;
    this.scheduleBuild();
  }

  private scheduleBuild(): void {
    if (this.building || !this.trees.building) return;
    this.building = true;
    this.later(this.d.options.buildStepMs, () => this.buildStep());
  }

  private buildStep(): void {
    let more: boolean;
    try {
      more = this.trees.buildStep((ks, start, limit) => this.d.replicas.scan(ks, start, undefined, limit, false), this.d.options.buildKeysPerStep, this.d.env.clock.wallMs());
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      // Exchanges find what the build could not read; the peers' copies fill it in.
      this.d.mark('merkle build read corrupt');
      this.trees.abandonScan(this.trees.scanningKeyspace()!);
      more = this.trees.building;
    }
    if (!more) {
      this.building = false;
      this.d.mark('merkle trees built');
      if (this.repairJob !== null) this.pump();
      return;
    }
    this.later(this.d.options.buildStepMs, () => this.buildStep());
  }

  /** Starts the next exchange if none runs: the operator's repair first, else the schedule's next pair. */
  private pump(): void {
    if (this.running || this.closed) return;
    const job = this.repairJob;
    if (job !== null) return this.pumpRepair(job);
    const slots = this.trees.slots();
    const pairs = slots.flatMap((s) => s.peers.map((peer) => ({ tree: s.tree, peer })));
    for (let tried = 0; tried < pairs.length; tried++) {
      const pair = pairs[this.cursor % pairs.length]!;
      this.cursor = (this.cursor + 1) % pairs.length;
      if (!pair.tree.built) {
        this.want();
        continue;
      }
      if (!this.d.isUp(pair.peer)) {
        this.counters.skippedPeerDown++;
        continue;
      }
      return this.start(pair, () => {});
    }
  }

  private pumpRepair(job: RepairJob): void {
    const p = job.progress;
    if (job.next === job.pairs.length) {
      p.finished = true;
      this.repairJob = null;
      this.lastRepair = { ...p };
      this.d.mark('anti-entropy repair finished');
      job.onProgress({ ...p });
      return job.cb(null, { ...p });
    }
    const pair = job.pairs[job.next]!;
    // Wait for the build: a tree still filling would report every key it has not read yet.
    if (!pair.tree.built) return this.want();
    const wait = job.notBeforeMs - this.d.env.clock.monotonicMs();
    if (wait > 0) return this.later(wait, () => this.pump());
    job.next++;
    if (!this.d.isUp(pair.peer)) {
      this.counters.skippedPeerDown++;
      p.skipped++;
      p.done++;
      job.onProgress({ ...p });
      this.later(0, () => this.pump());
      return;
    }
    this.start(pair, (r) => {
      // The peer builds its trees when first asked: ask it again a little later.
      if (r.result === 'failed' && r.reason !== null && r.reason.endsWith('tree still building') && job.refused < BUILDING_RETRIES) {
        job.refused++;
        job.next--;
        job.notBeforeMs = this.d.env.clock.monotonicMs() + BUILDING_RETRY_MS;
        return;
      }
      job.refused = 0;
      p.done++;
      p.bytes += r.bytes;
      p.keysRepaired += r.keysReceived + r.keysSent;
      if (r.result === 'in_sync') p.inSync++;
      else if (r.result === 'repaired') p.repaired++;
      else p.failed++;
      job.onProgress({ ...p });
    });
  }

  private start(pair: Pair, after: (r: ExchangeReport) => void): void {
    assert(!this.running, 'one exchange at a time');
    this.running = true;
    this.counters.exchangesStarted++;
    const id = this.d.env.rng.int(2 ** 31);
    runExchange(
      {
        call: this.d.call,
        replicas: this.d.replicas,
        throttle: this.throttle,
        timeoutMs: this.d.requestTimeoutMs,
        maxKeysPerMessage: this.d.options.maxKeysPerMessage,
        streamInflight: this.d.options.streamInflight,
        alive: () => !this.closed,
        mark: (w) => this.d.mark(w),
      },
      id,
      pair.tree,
      pair.peer,
      (r) => {
        this.running = false;
        this.counters.bytesExchanged += r.bytes;
        this.counters.keysReceived += r.keysReceived;
        this.counters.keysSent += r.keysSent;
        if (r.result === 'failed') {
          this.counters.exchangesFailed++;
          this.d.mark('anti-entropy exchange failed');
        } else {
          this.counters.rangesCompared++;
          if (r.result === 'in_sync') this.counters.rangesInSync++;
          else this.d.mark('anti-entropy range repaired');
        }
        if (this.closed) return;
        after(r);
        if (this.repairJob !== null) this.later(0, () => this.pump());
      },
    );
  }
}
