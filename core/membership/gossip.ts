// Gossip membership (Cassandra's Gossiper, Scuttlebutt reconciliation) as a
// state machine over an Env: no thread of its own, it reacts to its round
// timer and to frames.
//
// Every intervalMs a node bumps its own heartbeat and sends a SYN with one
// digest per member it knows to the peers gossip_targets.ts chooses; the
// SYN/ACK/ACK2 exchange (gossip_messages.ts) leaves both ends with the newer
// of each other's states (member_state.ts), so news spreads as push-pull
// epidemics do, to all n nodes in O(log n) rounds.
//
// What this node knows of the others, whether it believes each up (phi
// accrual fed by their heartbeats as seen through gossip) and the eviction
// of members that left or were removed are member_table.ts. Members not
// believed up are still probed (gossip_targets.ts), so split halves merge
// again.
//
// State about this node from elsewhere: a node is the only writer of its own
// generation. Finding a newer generation of itself (a remover's, or its own
// from before a restart that reused the generation) or a write of its
// generation it did not make, it refutes: it moves to a generation above both
// and writes its fields again, and reports 'generationChanged' so the caller
// persists the new generation.
//
// Gossip shares env.net with other protocols: frames carry a protocol tag.
// Without an injected `send`, the Gossiper registers env.net.onFrame itself;
// with one, a multiplexer owns the network and hands it frames (handleFrame)
// or decoded payloads (handleMessage).

import { AssertionError, assert } from '../../io/assert.ts';
import type { Env } from '../../io/env.ts';
import type { NodeId } from '../../io/network.ts';
import type { TimerId } from '../../io/timers.ts';
import type { LivenessView } from '../replication/liveness.ts';
import { type GossipMessage, GossipWireError, type GossipRequest, decodeGossipFrame, decodeGossipPayload, encodeGossipFrame } from './gossip_messages.ts';
import { chooseGossipTargets } from './gossip_targets.ts';
import { DEFAULT_EVICT_AFTER_MS, type GossipStats, type GossiperOptions } from './gossip_options.ts';
import { type MemberDelta, type MemberDigest, MemberState, type MemberStatus, type NodeState, isValidNodeId, isVersion, mergeMember, removalState } from './member_state.ts';
import { type GossipEvent, MemberTable } from './member_table.ts';
import { PhiAccrualDetector } from './phi_accrual.ts';

export type { GossipStats, GossiperOptions } from './gossip_options.ts';
export type { GossipEvent } from './member_table.ts';

export class Gossiper implements LivenessView {
  readonly nodeId: NodeId;
  private self: MemberState;
  private readonly table: MemberTable;
  private readonly detector: PhiAccrualDetector;
  private readonly seeds: readonly NodeId[];
  private readonly intervalMs: number;
  private readonly fanout: number;
  private readonly clusterName: string;
  private readonly sendFrame: (to: NodeId, frame: Uint8Array) => void;
  private readonly ownsNetwork: boolean;
  private readonly listeners: ((event: GossipEvent) => void)[] = [];
  /** knownNodes() as of the table's idsChanges count knownSortedAt. */
  private knownSorted: readonly NodeId[] = [];
  private knownSortedAt = -1;
  private roundTimer: TimerId | null = null;
  /** A re-judging of liveness between rounds, at the earliest moment a live member becomes suspect. */
  private judgeTimer: TimerId | null = null;
  private judgeAtMs = Number.POSITIVE_INFINITY;
  private running = false;
  private listening = false;
  /** Changes to this node's own status, tokens and application states (see stateChanges). */
  private selfChanges = 0;
  private readonly counters: GossipStats = {
    rounds: 0,
    sent: { syn: 0, ack: 0, ack2: 0 },
    received: { syn: 0, ack: 0, ack2: 0 },
    bytesSent: 0,
    rejectedFrames: 0,
    foreignCluster: 0,
    whileStopped: 0,
    ignoredDeltas: { stale: 0, gap: 0, incomplete: 0, evicted: 0 },
    refutations: 0,
  };

  constructor(
    private readonly env: Env,
    options: GossiperOptions,
  ) {
    this.nodeId = env.nodeId;
    this.intervalMs = options.intervalMs ?? 1000;
    this.fanout = options.fanout ?? 2;
    this.clusterName = options.clusterName ?? 'ringkv';
    if (!isValidNodeId(this.nodeId)) throw new AssertionError(`gossip node id ${JSON.stringify(this.nodeId)}`);
    if (!isVersion(options.generation)) throw new AssertionError(`generation ${options.generation}`);
    if (!(Number.isFinite(this.intervalMs) && this.intervalMs > 0)) throw new AssertionError(`gossip interval ${this.intervalMs}`);
    if (!(Number.isInteger(this.fanout) && this.fanout >= 1)) throw new AssertionError(`gossip fanout ${this.fanout}`);
    for (const seed of options.seeds) if (!isValidNodeId(seed)) throw new AssertionError(`seed ${JSON.stringify(seed)}`);
    this.seeds = [...new Set(options.seeds)].filter((s) => s !== this.nodeId);
    this.detector = new PhiAccrualDetector({
      firstHeartbeatEstimateMs: this.intervalMs,
      acceptableHeartbeatPauseMs: 2 * this.intervalMs,
      maxSampleSize: 50,
      ...options.detector,
      threshold: options.phiThreshold ?? 8,
    });
    this.table = new MemberTable(this.nodeId, this.detector, options.evictAfterMs ?? DEFAULT_EVICT_AFTER_MS, (e) => this.emit(e));
    this.self = MemberState.initial(this.nodeId, options.generation, {
      status: options.status ?? 'joining',
      tokens: options.tokens ?? [],
      load: options.load ?? 0,
      app: options.appStates ?? new Map(),
    });
    this.ownsNetwork = options.send === undefined;
    this.sendFrame = options.send ?? ((to, frame) => env.net.send(to, frame));
  }

  // ---- lifecycle ----

  /** Starts the rounds (the first after a random part of an interval, so nodes do not march in step). */
  start(): void {
    if (!(!this.running)) throw new AssertionError(`gossiper ${this.nodeId} started twice`);
    this.running = true;
    if (this.ownsNetwork && !this.listening) {
      this.listening = true;
      this.env.net.onFrame((from, frame) => void this.handleFrame(from, frame));
    }
    this.roundTimer = this.env.timers.setTimer(this.env.rng.next() * this.intervalMs, () => this.round());
  }

  /** Stops the rounds; frames arriving while stopped are dropped. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.roundTimer !== null) this.env.timers.cancelTimer(this.roundTimer);
    this.roundTimer = null;
    this.cancelJudgeTimer();
  }

  get isRunning(): boolean {
    return this.running;
  }

  // ---- this node's state ----

  get generation(): number {
    return this.self.generation;
  }

  /** This node's own state (read it; change it through the setters). */
  get localState(): MemberState {
    return this.self;
  }

  setStatus(status: MemberStatus): void {
    assert(status !== 'removed', 'a node does not remove itself: it leaves');
    const from = this.self.status;
    this.self.putStatus(status);
    this.selfChanges++;
    if (from !== status) this.emit({ type: 'statusChanged', nodeId: this.nodeId, from, to: status });
  }

  setTokens(tokens: readonly bigint[]): void {
    this.self.putTokens(tokens);
    this.selfChanges++;
    this.emit({ type: 'tokensChanged', nodeId: this.nodeId, tokens: this.self.tokens });
  }

  setLoad(load: number): void {
    this.self.putLoad(load);
  }

  setAppState(key: string, value: string): void {
    if (this.self.appState(key) !== value) this.selfChanges++;
    this.self.putApp(key, value);
  }

  // ---- what this node knows ----

  /**
   * Grows whenever what is known of any node (this one included) may have
   * changed beyond heartbeats and load: a member joined, restarted or was
   * evicted, or a status, tokens or application state changed. Equal
   * readings mean the same members, statuses, tokens and application states,
   * so a view built from them (a topology) needs no rebuilding.
   */
  get stateChanges(): number {
    return this.selfChanges + this.table.changes;
  }

  onChange(listener: (event: GossipEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i !== -1) this.listeners.splice(i, 1);
    };
  }

  /** LivenessView: this node is up; a member as member_table.ts judges it; an unknown node is not. */
  isUp(nodeId: NodeId): boolean {
    return nodeId === this.nodeId || this.table.isUp(nodeId);
  }

  /** The member's status, or 'down' while a member that should be serving is not up; null if unknown. */
  stateOf(nodeId: NodeId): NodeState | null {
    return nodeId === this.nodeId ? this.self.status : this.table.stateOf(nodeId);
  }

  /** What this node knows of a node (itself included). */
  member(nodeId: NodeId): MemberState | undefined {
    return nodeId === this.nodeId ? this.self : this.table.state(nodeId);
  }

  /** Every node this node knows, itself included, sorted (kept until a member joins or is evicted). */
  knownNodes(): readonly NodeId[] {
    if (this.knownSortedAt !== this.table.idsChanges) {
      this.knownSorted = Object.freeze([this.nodeId, ...this.table.ids()].sort());
      this.knownSortedAt = this.table.idsChanges;
    }
    return this.knownSorted;
  }

  /** Members believed up, this node excluded, sorted. */
  liveMembers(): NodeId[] {
    return [...this.table.ids()].filter((id) => this.table.isUp(id)).sort();
  }

  /** φ of a member now (0 if it was never heard alive). */
  phi(nodeId: NodeId): number {
    return this.detector.phi(nodeId, this.env.clock.monotonicMs());
  }

  stats(): GossipStats {
    const c = this.counters;
    return { ...c, sent: { ...c.sent }, received: { ...c.received }, ignoredDeltas: { ...c.ignoredDeltas } };
  }

  /**
   * Gossips a dead member as removed (Cassandra's removenode): a removal
   * generation above its own. Refused (false) for this node, an unknown
   * member, or one believed up.
   */
  removeMember(nodeId: NodeId): boolean {
    const state = this.table.state(nodeId);
    if (nodeId === this.nodeId || state === undefined || this.table.isUp(nodeId)) return false;
    if (state.status !== 'removed') this.applyDelta(removalState(state).deltaAbove(0), this.env.clock.monotonicMs());
    return true;
  }

  // ---- rounds ----

  private round(): void {
    this.roundTimer = null;
    if (!(this.running)) throw new AssertionError(`gossip round of ${this.nodeId} while stopped`);
    const now = this.env.clock.monotonicMs();
    this.counters.rounds++;
    this.self.heartbeatTick();
    const { live, unreachable } = this.table.sweep(now);
    this.scheduleJudging(now);
    const targets = chooseGossipTargets(this.env.rng, { live, unreachable, seeds: this.seeds }, this.fanout);
    if (targets.length > 0) {
      const digests: MemberDigest[] = [this.self.digest()];
      this.table.digestsInto(digests);
      const frame = encodeGossipFrame({ t: 'syn', cluster: this.clusterName, digests });
      for (const to of targets) this.transmit(to, 'syn', frame);
    }
    this.roundTimer = this.env.timers.setTimer(this.intervalMs, () => this.round());
  }

  /**
   * Rounds judge liveness; so does a timer at the first suspicion deadline
   * that falls before the next round, so a crash is reported when φ crosses
   * the threshold rather than up to a round later.
   */
  private scheduleJudging(now: number): void {
    const first = this.table.nextSuspicionMs();
    if (first >= now + this.intervalMs) return this.cancelJudgeTimer();
    const at = Math.max(first, now) + 1;
    if (this.judgeTimer !== null && this.judgeAtMs <= at) return;
    this.cancelJudgeTimer();
    this.judgeAtMs = at;
    this.judgeTimer = this.env.timers.setTimer(at - now, () => {
      this.judgeTimer = null;
      this.judgeAtMs = Number.POSITIVE_INFINITY;
      const t = this.env.clock.monotonicMs();
      this.table.judgeAll(t);
      this.scheduleJudging(t);
    });
  }

  private cancelJudgeTimer(): void {
    if (this.judgeTimer !== null) this.env.timers.cancelTimer(this.judgeTimer);
    this.judgeTimer = null;
    this.judgeAtMs = Number.POSITIVE_INFINITY;
  }

  private transmit(to: NodeId, type: GossipMessage['t'], frame: Uint8Array): void {
    this.counters.sent[type]++;
    this.counters.bytesSent += frame.length;
    this.sendFrame(to, frame);
  }

  private send(to: NodeId, message: GossipMessage): void {
    this.transmit(to, message.t, encodeGossipFrame(message));
  }

  // ---- receiving ----

  /** A frame from the network; false if it was dropped (garbage, another cluster, stopped). */
  handleFrame(from: NodeId, frame: Uint8Array): boolean {
    let message: GossipMessage;
    try {
      message = decodeGossipFrame(frame);
    } catch (err) {
      if (!(err instanceof GossipWireError)) throw err;
      this.counters.rejectedFrames++;
      return false;
    }
    return this.receive(from, message);
  }

  /** A frame payload a multiplexer decoded (validated here); false if it was dropped. */
  handleMessage(from: NodeId, payload: unknown): boolean {
    let message: GossipMessage;
    try {
      message = decodeGossipPayload(payload);
    } catch (err) {
      if (!(err instanceof GossipWireError)) throw err;
      this.counters.rejectedFrames++;
      return false;
    }
    return this.receive(from, message);
  }

  private receive(from: NodeId, message: GossipMessage): boolean {
    if (!this.running) {
      this.counters.whileStopped++;
      return false;
    }
    if (message.cluster !== this.clusterName) {
      this.counters.foreignCluster++;
      return false;
    }
    this.counters.received[message.t]++;
    const now = this.env.clock.monotonicMs();
    switch (message.t) {
      case 'syn':
        this.onSyn(from, message.digests);
        break;
      case 'ack':
        for (const d of message.deltas) this.applyDelta(d, now);
        this.onRequests(from, message.requests);
        break;
      case 'ack2':
        for (const d of message.deltas) this.applyDelta(d, now);
        break;
    }
    return true;
  }

  /** Answers a SYN: deltas where this node is ahead (and for members the sender lacks), requests where it is behind. */
  private onSyn(from: NodeId, digests: readonly MemberDigest[]): void {
    const deltas: MemberDelta[] = [];
    const requests: GossipRequest[] = [];
    const mentioned = new Set<NodeId>();
    for (const d of digests) {
      mentioned.add(d.nodeId);
      if (this.table.isEvicted(d.nodeId, d.generation)) continue;
      const local = this.member(d.nodeId);
      if (local === undefined || local.generation < d.generation) {
        requests.push({ nodeId: d.nodeId, generation: d.generation, above: 0 });
      } else if (local.generation > d.generation) {
        deltas.push(local.deltaAbove(0));
      } else if (local.maxVersion < d.maxVersion) {
        requests.push({ nodeId: d.nodeId, generation: d.generation, above: local.maxVersion });
      } else if (local.maxVersion > d.maxVersion) {
        deltas.push(local.deltaAbove(d.maxVersion));
      }
    }
    if (!mentioned.has(this.nodeId)) deltas.push(this.self.deltaAbove(0));
    for (const state of this.table.states()) if (!mentioned.has(state.nodeId)) deltas.push(state.deltaAbove(0));
    this.send(from, { t: 'ack', cluster: this.clusterName, deltas, requests });
  }

  /** Answers an ACK's requests with an ACK2 (nothing is sent when there is nothing newer). */
  private onRequests(from: NodeId, requests: readonly GossipRequest[]): void {
    const deltas: MemberDelta[] = [];
    for (const r of requests) {
      const local = this.member(r.nodeId);
      if (local === undefined || local.generation < r.generation) continue;
      if (local.generation > r.generation) deltas.push(local.deltaAbove(0));
      else if (local.maxVersion > r.above) deltas.push(local.deltaAbove(r.above));
    }
    if (deltas.length > 0) this.send(from, { t: 'ack2', cluster: this.clusterName, deltas });
  }

  private applyDelta(delta: MemberDelta, now: number): void {
    if (delta.nodeId === this.nodeId) return this.checkAboutSelf(delta);
    const ignored = this.table.apply(delta, now);
    if (ignored !== null) this.counters.ignoredDeltas[ignored]++;
  }

  /** Gossip about this node: anything it did not write itself is refuted with a new generation. */
  private checkAboutSelf(delta: MemberDelta): void {
    if (delta.generation < this.self.generation) return;
    if (delta.generation === this.self.generation) {
      const r = mergeMember(this.self.clone(), delta);
      if (r.kind !== 'updated') return;
    }
    const generation = Math.max(this.self.generation, delta.generation) + 1;
    const old = this.self;
    this.self = MemberState.initial(this.nodeId, generation, {
      status: old.status,
      tokens: old.tokens,
      load: old.load,
      app: new Map(old.appStates()),
    });
    this.counters.refutations++;
    this.selfChanges++;
    this.emit({ type: 'generationChanged', generation });
  }

  private emit(event: GossipEvent): void {
    for (const listener of this.listeners.slice()) listener(event);
  }
}
