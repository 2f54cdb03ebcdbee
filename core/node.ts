// A ringkv store node: the storage engine, the ring, and the replication
// protocols (core/replication/) composed behind the client API.
//
// Every node coordinates. Gets, puts and deletes go to the key's replicas as
// described in replication/coordinator.ts (ordinary levels, sloppy quorum
// with hinted handoff and read repair) and replication/strong.ts (STRONG:
// strict quorum, linearizable per key); scans in
// replication/scan_coordinator.ts. What this node does for other
// coordinators is replication/replica_service.ts.
//
// A StoreNode is a state machine over its Env: it reacts to client calls,
// frames, timer firings and disk completions, and never blocks. Callbacks are
// called exactly once (possibly synchronously for invalid input). After a
// crash the simulator discards the instance; StoreNode.open on the restarted
// Env recovers everything from disk: the engine, the hints, and the HLC
// lease (so timestamps stay above those issued before the crash).
//
// Membership (membership/node_membership.ts): a Gossiper shares env.net with
// the peer requests (frames told apart by replication/frame_protocol.ts); its
// generation lives in the engine's meta keys, one above the last on every
// open. Peers are down for the coordinator, hint replay and repair when the
// request layer's reachability view or gossip says so (replication/
// liveness.ts). The topology the coordinator reads per request is rebuilt
// from gossip whenever the members' phases or tokens change.
//
// Tombstone safety: the node records in its meta keys, every
// lastAliveIntervalMs, that it is alive. Opening after a longer absence than
// the tombstone grace period (less the clock skew bound), its data may hold
// values whose deletes it missed and whose tombstones the others have purged:
// it then needs a rebuild (replication/replica_rebuild.ts) and, durably until
// the rebuild finishes, serves no reads or writes (its replica answers and
// its coordinator refuse) and gossips so, which takes it out of its peers'
// liveness view. The rebuild starts at open when config.autoRebuild is set,
// else when an operator calls rebuild().

import { assert } from '../io/assert.ts';
import type { Env } from '../io/env.ts';
import type { NodeId } from '../io/network.ts';
import type { TimerId } from '../io/timers.ts';
import type { Ring } from './ring/ring.ts';
import { Topology } from './ring/topology.ts';
import { DEFAULT_STREAM_OPTIONS, type StreamProgress } from './ring_change/range_streamer.ts';
import { RangeCleanup, type RangeCleanupProgress } from './ring_change/range_cleanup.ts';
import { RingChangeService } from './ring_change/ring_change_service.ts';
import { RingPhaseDriver, type RingOperationKind } from './ring_change/ring_phase_driver.ts';
import { OWN_RING_META, type OwnRingRecord, encodeOwnRing } from './ring_change/own_ring_record.ts';
import { balancedTokens } from './ring/token_allocator.ts';
import { type MemberView, NodeMembership } from './membership/node_membership.ts';
import type { MemberStatus } from './membership/member_state.ts';
import type { Engine } from './storage/engine.ts';
import { CorruptionError } from './storage/errors.ts';
import { DEFAULT_MAX_SKEW_MS } from './versioning/hlc.ts';
import { antiEntropyOptions } from './antientropy/anti_entropy_options.ts';
import { type AntiEntropyStatus, AntiEntropyService, type RepairProgress, type RepairScope } from './antientropy/anti_entropy_service.ts';
import { Coordinator } from './replication/coordinator.ts';
import type { CoordinatorDeps } from './replication/coordinator_deps.ts';
import { DEFAULT_HLC_LEASE_MS, HlcLease, encodeCeiling } from './replication/hlc_lease.ts';
import { HintQueue } from './replication/hint_queue.ts';
import { KeyspaceRegistry } from './replication/keyspace.ts';
import { MemberLiveness, ReachabilityView } from './replication/liveness.ts';
import { frameProtocol } from './replication/frame_protocol.ts';
import { type RebuildProgress, ReplicaRebuild } from './replication/replica_rebuild.ts';
import { GENERATION_META, defaultLastAliveIntervalMs, encodeDecimal } from './replication/life_record.ts';
import { RebuildGuard } from './replication/rebuild_guard.ts';
import type { Message } from './replication/messages.ts';
import { PeerRpc, type ReplyTo } from './replication/peer_rpc.ts';
import { RecordWriter } from './replication/record_writer.ts';
import { ReplicaService } from './replication/replica_service.ts';
import { ReplicaStore } from './replication/replica_store.ts';
import { ReplicaCompleteness } from './replication/replica_completeness.ts';
import { ScanCoordinator } from './replication/scan_coordinator.ts';
import { metaKey } from './replication/storage_keys.ts';
import type {
  DeleteRequest,
  GetRequest,
  GetResponse,
  PutRequest,
  ReplicaRecord,
  ScanRequest,
  ScanResponse,
  WriteResponse,
} from './replication/requests.ts';

import { DEFAULT_GRACE_MS, DEFAULT_SIBLING_LIMITS, HLC_META, INCOMPLETE_META, type NodeConfig } from './node_config.ts';
import { recoverNodeState } from './node_open.ts';

export { type ClusterMember, type NodeConfig, defaultNodeConfig } from './node_config.ts';
export type { Consistency, ConsistencyLevel } from './replication/consistency.ts';
export { DEFAULT_KEYSPACE, type KeyspaceConfig } from './replication/keyspace.ts';
export type { LivenessView } from './replication/liveness.ts';
export type { MemberView } from './membership/node_membership.ts';
export type { RebuildProgress } from './replication/replica_rebuild.ts';
export type { RangeCleanupProgress } from './ring_change/range_cleanup.ts';
export type {
  DeleteRequest,
  ErrorCode,
  ErrorInfo,
  GetRequest,
  GetResponse,
  PutRequest,
  ReplicaRecord,
  ScanItem,
  ScanRequest,
  ScanResponse,
  WriteResponse,
} from './replication/requests.ts';

export class StoreNode {
  private readonly markCounts = new Map<string, number>();
  private readonly timers: TimerId[] = [];
  private closed = false;
  private readonly coordinator: Coordinator;
  private readonly scanner: ScanCoordinator;
  private readonly rpc: PeerRpc;
  private readonly reachability: ReachabilityView;
  private readonly liveness: MemberLiveness;
  private readonly membership: NodeMembership;
  private readonly guard: RebuildGuard;
  private readonly replicas: ReplicaStore;
  private readonly hints: HintQueue;
  private readonly lease: HlcLease;
  private readonly antiEntropy: AntiEntropyService;
  private currentTopology: Topology;
  private readonly ringChange: RingChangeService;
  private readonly ringPhases: RingPhaseDriver;
  private readonly cleanup: RangeCleanup | null;

  private constructor(
    private readonly env: Env,
    readonly config: NodeConfig,
    topology: Topology,
    private readonly engine: Engine,
    ceilingMs: number,
    incompleteAtOpen: boolean,
    life: { generation: number; needsRebuild: boolean; ownRing: OwnRingRecord | null },
  ) {
    this.currentTopology = topology;
    const mark = (what: string): void => this.mark(what);
    if (incompleteAtOpen) mark('replica may have lost writes');
    const keyspaces = new KeyspaceRegistry(config.keyspaces);
    const writer = new RecordWriter(engine);
    const graceMs = config.engine?.tombstoneGraceMs ?? DEFAULT_GRACE_MS;
    this.replicas = new ReplicaStore(engine, writer, env.clock, graceMs);
    this.hints = HintQueue.load(engine, writer, env.clock, {
      windowMs: config.hintWindowMs,
      maxPerTarget: config.maxHintsPerTarget,
      replayBytesPerSec: config.hintReplayBytesPerSec,
      maxInflightPerTarget: config.hintReplayInflight ?? 4,
    });
    const maxSkewMs = config.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    const hlc = HlcLease.restoredClock(env.clock, env.nodeId, ceilingMs, maxSkewMs);
    this.lease = new HlcLease(hlc, env.clock, ceilingMs, config.hlcLeaseMs ?? DEFAULT_HLC_LEASE_MS, (ceiling, cb) =>
      writer.put(metaKey(HLC_META), encodeCeiling(ceiling), undefined, cb),
    );
    this.reachability = new ReachabilityView(
      env.nodeId,
      config.downAfterTimeouts ?? 2,
      (node, up) => mark(up ? 'peer up' : 'peer down'),
      () => env.clock.monotonicMs(),
    );
    this.membership = new NodeMembership(
      env,
      {
        members: config.members,
        seeds: config.seeds ?? config.members.map((m) => m.id),
        generation: life.generation,
        status: life.ownRing?.phase ?? (config.join === true ? 'joining' : (config.members.find((m) => m.id === env.nodeId)?.phase ?? 'normal')),
        ...(life.ownRing !== null ? { tokens: life.ownRing.tokens } : config.join === true ? { tokens: [] } : {}),
        removing: life.ownRing?.phase === 'joining' ? life.ownRing.replaces : null,
        removed: life.ownRing?.phase === 'normal' && life.ownRing.replaces !== null ? [life.ownRing.replaces] : [],
        needsRebuild: life.needsRebuild,
        ...(config.peerAddress !== undefined ? { address: config.peerAddress } : {}),
        gossip: { ...(config.gossipIntervalMs !== undefined ? { intervalMs: config.gossipIntervalMs } : {}), ...(config.phiThreshold !== undefined ? { phiThreshold: config.phiThreshold } : {}) },
      },
      {
        onTopology: (t) => this.setTopology(t),
        onUp: (node) => this.reachability.cameUp(node),
        onGeneration: (generation) => writer.put(GENERATION_META, encodeDecimal(generation), undefined, () => {}),
        mark,
      },
    );
    this.currentTopology = this.membership.topology;
    this.liveness = new MemberLiveness(env.nodeId, this.reachability, this.membership);
    this.rpc = new PeerRpc(env, this.reachability, mark);
    const deps: CoordinatorDeps = {
      env,
      topology: () => this.currentTopology,
      keyspaces,
      rpc: this.rpc,
      liveness: this.liveness,
      lease: this.lease,
      replicas: this.replicas,
      limits: {
        requestTimeoutMs: config.requestTimeoutMs,
        maxKeyBytes: config.maxKeyBytes,
        maxValueBytes: config.maxValueBytes,
        siblingLimits: config.siblingLimits ?? DEFAULT_SIBLING_LIMITS,
      },
      mark,
    };
    this.coordinator = new Coordinator(deps);
    this.scanner = new ScanCoordinator(deps);
    // A lost stream checkpoint only means streaming that task again, a lost cleanup record walking the data again.
    const loadMeta = (name: string): Uint8Array | undefined => {
      try {
        return engine.get(metaKey(name));
      } catch (err) {
        if (!(err instanceof CorruptionError)) throw err;
        return undefined;
      }
    };
    const saveMeta = (name: string, value: Uint8Array, cb: (err: Error | null) => void): void => writer.put(metaKey(name), value, undefined, cb);
    this.ringChange = new RingChangeService(
      {
        self: env.nodeId,
        timers: env.timers,
        topology: () => this.currentTopology,
        keyspaces: () => keyspaces.all(),
        requestPage: (source, request, cb) =>
          this.rpc.call(source, { t: 'stream', ...request }, config.requestTimeoutMs, (reply) => cb(reply?.t === 'stream_ok' ? { items: reply.items, next: reply.next } : null)),
        apply: (ks, key, value, cb) => this.replicas.apply(ks, key, value, (err) => cb(err)),
        loadMeta,
        saveMeta,
        mark,
      },
      { ...DEFAULT_STREAM_OPTIONS, ...config.rangeStream },
    );
    const service = new ReplicaService({
      self: env.nodeId,
      keyspaces,
      replicas: this.replicas,
      hints: this.hints,
      hlc,
      completeness: new ReplicaCompleteness(
        incompleteAtOpen,
        () => engine.quarantinedTableCount > 0,
        (cb) => writer.put(metaKey(INCOMPLETE_META), Uint8Array.of(1), undefined, cb),
        mark,
      ),
      coordinateForwarded: (f, cb) => this.coordinator.handleForward(f, cb),
      scan: (request, reply) => this.serveScan(request, reply),
      mark,
    });
    this.antiEntropy = new AntiEntropyService(
      {
        env,
        call: (to, request, timeoutMs, onReply) => this.rpc.call(to, request, timeoutMs, onReply),
        // A node that needs a rebuild must not push its stale records anywhere: every peer counts as down.
        isUp: (node) => !this.guard.needed && this.liveness.isUp(node),
        replicas: this.replicas,
        keyspaces: keyspaces.all(),
        graceMs,
        requestTimeoutMs: config.requestTimeoutMs,
        options: antiEntropyOptions(config.antiEntropy),
        mark,
      },
      topology.readRing,
    );
    this.replicas.onRecordWritten = (ks, key, value, encoded) => this.antiEntropy.recordWritten(ks, key, value, encoded);
    this.guard = new RebuildGuard(
      {
        env,
        writer,
        newRebuild: () =>
          new ReplicaRebuild({
            env,
            engine,
            writer,
            replicas: this.replicas,
            rpc: this.rpc,
            keyspaces: keyspaces.all(),
            peers: () => this.currentTopology.members().map((m) => m.id).filter((id) => id !== env.nodeId),
            homeReplicas: (token, n) => this.currentTopology.readReplicas(token, n),
            requestTimeoutMs: config.requestTimeoutMs,
            retryMs: config.probeIntervalMs ?? 200,
            mark,
          }),
        onRebuilt: () => this.membership.setNeedsRebuild(false),
        mark,
      },
      life.needsRebuild,
    );
    this.rpc.serve((from, request, reply) => {
      if (!this.guard.needed && request.t === 'merkle') return this.antiEntropy.handle(from, request, reply);
      if (!this.guard.needed || request.t === 'ping') return service.handle(from, request as Exclude<typeof request, { t: 'merkle' }>, reply);
      this.mark('peer request refused: needs rebuild');
      reply({ t: 'fail', id: request.id, code: 'unavailable', message: this.guard.message(), definite: true });
    });
    env.net.onFrame((from, frame) => {
      if (frameProtocol(frame) === 'gossip') this.membership.receive(from, frame);
      else this.rpc.receive(from, frame);
    });
    this.ringPhases = new RingPhaseDriver({
      self: env.nodeId,
      timers: env.timers,
      // The settle rule (ring_phase_driver.ts): above the request timeout, plus a gossip round of margin.
      settleMs: config.requestTimeoutMs + (config.gossipIntervalMs ?? 1000),
      pollMs: config.probeIntervalMs ?? 200,
      monotonicMs: () => env.clock.monotonicMs(),
      topology: () => this.currentTopology,
      livePeers: () => this.membership.livePeers(),
      progressOf: (id) => this.membership.progressOf(id),
      publish: (p) => this.membership.publishProgress(p),
      removing: () => this.membership.removing(),
      announce: (phase, tokens, replaces, cb) => {
        writer.put(metaKey(OWN_RING_META), encodeOwnRing({ phase, tokens, replaces }), undefined, (err) => {
          if (err !== null || this.closed) {
            mark('ring: phase not persisted');
            return cb(false); // the driver tries the step again
          }
          this.membership.setTokens(tokens);
          if (phase === 'joining' && replaces !== null) this.membership.setRemoving(replaces);
          assert(phase !== 'removed', 'a node does not remove itself');
          this.membership.setStatus(phase);
          cb(true);
        });
      },
      setRemoving: (dead) => this.membership.setRemoving(dead),
      removeMember: (dead) => this.membership.removeMember(dead),
      streamPendingRanges: (dead) => this.ringChange.streamPendingRanges(dead),
      caughtUp: () => this.ringChange.caughtUp(),
      mark,
    });
    this.cleanup =
      config.rangeCleanup === false
        ? null
        : new RangeCleanup({
            self: env.nodeId,
            timers: env.timers,
            engine,
            writer,
            keyspaces: () => keyspaces.all(),
            topology: () => this.currentTopology,
            settled: () => this.ringPhases.settled(),
            allowed: () => !this.guard.needed,
            loadMeta,
            saveMeta,
            mark,
          });
    this.every(config.probeIntervalMs ?? 200, () => this.background());
    const aliveEvery = config.lastAliveIntervalMs ?? defaultLastAliveIntervalMs(graceMs);
    this.every(aliveEvery, () => this.guard.recordAlive());
    if (config.fullCompactionIntervalMs !== undefined) this.every(config.fullCompactionIntervalMs, () => engine.compactAll(() => {}));
    this.membership.start();
    this.ringPhases.start();
    const own = life.ownRing;
    const openedMs = env.clock.monotonicMs();
    if (own?.phase === 'joining') this.ringPhases.join(() => own.tokens, own.replaces, true, () => {});
    else if (own?.phase === 'leaving') this.ringPhases.decommission(true, () => {});
    else if (own === null && config.join === true) this.ringPhases.join(() => this.tokensToJoin(keyspaces, openedMs), config.replaces ?? null, false, () => {});
    if (life.needsRebuild && config.autoRebuild === true) this.rebuild(() => {});
  }

  /** Opens the storage engine on env.disk (recovering it: node_open.ts), loads hints, registers env.net.onFrame, starts timers. */
  static open(env: Env, config: NodeConfig, cb: (err: Error | null, node?: StoreNode) => void): void {
    recoverNodeState(env, config, (err, state) => {
      if (err !== null) return cb(err);
      const s = state!;
      let node: StoreNode;
      try {
        node = new StoreNode(env, config, s.topology, s.engine, s.ceilingMs, s.incomplete, s.life);
      } catch (buildErr) {
        return s.engine.close(() => cb(buildErr as Error));
      }
      cb(null, node);
    });
  }

  get nodeId(): NodeId {
    return this.env.nodeId;
  }

  /** Pulls the ranges the current topology moves to this node (ring_change/), leaving out sources in `dead`. */
  streamPendingRanges(dead: readonly string[] = []): void {
    this.ringChange.streamPendingRanges(dead);
  }

  rangeStreamProgress(): StreamProgress | null {
    return this.ringChange.progress();
  }

  /** Whether this node holds every range its current topology moves to it. */
  rangesCaughtUp(): boolean {
    return this.ringChange.caughtUp();
  }

  /** Decommissions this node by gossip (ring_change/ring_phase_driver.ts); calls back once it is 'left' everywhere. */
  decommission(cb: (err: Error | null) => void): void {
    const phase = this.currentTopology.phaseOf(this.env.nodeId);
    if (phase !== 'normal') return cb(new Error(`${this.env.nodeId} is ${phase ?? 'not placed'}, not normal`));
    this.ringPhases.decommission(false, cb);
  }

  /** Removes the dead member `deadId` by gossip on its behalf; the survivors restore N copies of its ranges first. */
  removeNode(deadId: string, cb: (err: Error | null) => void): void {
    this.ringPhases.removeNode(deadId, cb);
  }

  /** The ring operation this node drives and what it waits for; null when none. */
  ringOperation(): { kind: RingOperationKind; waitingFor: string } | null {
    const kind = this.ringPhases.operation;
    return kind === null ? null : { kind, waitingFor: this.ringPhases.waitingFor ?? '' };
  }

  /** The ring reads go to (the current topology's read ring). */
  get ring(): Ring {
    return this.currentTopology.readRing;
  }

  get topology(): Topology {
    return this.currentTopology;
  }

  /** Replaces the placement requests use from now on (membership changes; ring_change/). */
  setTopology(topology: Topology): void {
    if (topology.version === this.currentTopology.version) return;
    this.currentTopology = topology;
    this.antiEntropy.setRing(topology.readRing);
    this.mark('topology changed');
  }

  get(req: GetRequest, cb: (res: GetResponse) => void): void {
    if (this.refuseClosed(cb) || this.guard.refuseClient(cb)) return;
    this.coordinator.get(req, cb);
  }

  put(req: PutRequest, cb: (res: WriteResponse) => void): void {
    if (this.refuseClosed(cb) || this.guard.refuseClient(cb)) return;
    this.coordinator.put(req, cb);
  }

  delete(req: DeleteRequest, cb: (res: WriteResponse) => void): void {
    if (this.refuseClosed(cb) || this.guard.refuseClient(cb)) return;
    this.coordinator.delete(req, cb);
  }

  scan(req: ScanRequest, cb: (res: ScanResponse) => void): void {
    if (this.refuseClosed(cb) || this.guard.refuseClient(cb)) return;
    this.scanner.scan(req, cb);
  }

  /** φ of a member as this node's gossip computes it now (0 for itself or one never heard alive). */
  phi(nodeId: NodeId): number {
    return this.membership.phi(nodeId);
  }

  /** Every member configured or heard of by gossip, as this node sees it. */
  memberStates(): MemberView[] {
    return this.membership.memberStates();
  }

  /** This node's gossip generation (one above the last open's). */
  get generation(): number {
    return this.membership.gossiper.generation;
  }

  /** Gossips this node's status (join, decommission: ring changes drive it). */
  setMemberStatus(status: MemberStatus): void {
    this.membership.setStatus(status);
  }

  /** Gossips this node's tokens. */
  setMemberTokens(tokens: readonly bigint[]): void {
    this.membership.setTokens(tokens);
  }

  /** Whether the node refuses to serve until rebuilt (it was down longer than the tombstone grace period). */
  get needsRebuild(): boolean {
    return this.guard.needed;
  }

  /** What the cleanup of ranges given away has done; null when config.rangeCleanup is false. */
  rangeCleanupProgress(): RangeCleanupProgress | null {
    return this.cleanup?.progress ?? null;
  }

  /** The rebuild's progress; null if none is running. */
  rebuildProgress(): RebuildProgress | null {
    return this.guard.progress;
  }

  /**
   * Rebuilds a node that needs it: wipes its replica data and streams it back
   * from the other members (replication/replica_rebuild.ts), then serves
   * again. Calls back at once when no rebuild is needed.
   */
  rebuild(cb: (err: Error | null) => void): void {
    this.guard.rebuild(cb);
  }

  /** Every record this node holds as a home replica (not hints), for checkers. */
  dumpReplicaRecords(): ReplicaRecord[] {
    return this.replicas.dump().map((r) => ({ keyspace: r.ks, key: r.key, value: r.value }));
  }

  /**
   * Operator repair by Merkle anti-entropy: compares the ranges in `scope`
   * (a keyspace, the ranges whose end token lies in `range`, or all) with
   * every other replica of each and streams what differs.
   */
  repair(scope: RepairScope, onProgress: (p: RepairProgress) => void, cb: (err: Error | null, p: RepairProgress) => void): void {
    this.antiEntropy.repair(scope, onProgress, cb);
  }

  antiEntropyStatus(): AntiEntropyStatus {
    return this.antiEntropy.status();
  }

  /** Hints waiting per target. */
  pendingHints(): Map<string, number> {
    return this.hints.pending();
  }

  /** Coverage marks hit so far, by name. */
  marks(): Map<string, number> {
    return new Map([...this.markCounts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }

  /** Whether this node currently believes `nodeId` reachable. */
  believesUp(nodeId: NodeId): boolean {
    return this.liveness.isUp(nodeId);
  }

  /** Whether this node's request layer alone (timeouts and frames) believes `nodeId` reachable. */
  reaches(nodeId: NodeId): boolean {
    return this.reachability.isUp(nodeId);
  }

  /** The durable HLC lease ceiling (ms): every timestamp this node issued is below it. */
  get hlcCeilingMs(): number {
    return this.lease.ceilingMs;
  }

  close(cb: (err: Error | null) => void): void {
    if (this.closed) return void this.env.timers.setTimer(0, () => cb(null));
    this.closed = true;
    for (const id of this.timers) this.env.timers.cancelTimer(id);
    this.membership.stop();
    this.ringPhases.stop();
    this.guard.close();
    this.antiEntropy.close();
    this.ringChange.stop();
    this.cleanup?.close();
    this.rpc.close();
    this.engine.close(cb);
  }

  private refuseClosed(cb: (res: { ok: false; error: { code: 'internal'; message: string; definite: true } }) => void): boolean {
    if (!this.closed) return false;
    cb({ ok: false, error: { code: 'internal', message: `node ${this.env.nodeId} is closed`, definite: true } });
    return true;
  }

  private mark(what: string): void {
    this.markCounts.set(what, (this.markCounts.get(what) ?? 0) + 1);
  }

  private every(intervalMs: number, fn: () => void): void {
    assert(intervalMs > 0, `interval ${intervalMs}`);
    const slot = this.timers.length;
    const tick = (): void => {
      if (this.closed) return;
      fn();
      this.timers[slot] = this.env.timers.setTimer(intervalMs, tick);
    };
    this.timers.push(this.env.timers.setTimer(intervalMs, tick));
  }

  /** Tokens for a join, once gossip has told this node of every configured member; null before. */
  private tokensToJoin(keyspaces: KeyspaceRegistry, startedMs: number): bigint[] | null {
    // Every configured member heard of, or a peer heard and a few rounds gone by (a member may have died before anyone heard it).
    const known = new Set(this.membership.gossiper.knownNodes());
    const heardAll = this.config.members.every((m) => known.has(m.id));
    const waitedMs = this.env.clock.monotonicMs() - startedMs;
    if (!heardAll && !(known.size > 1 && waitedMs >= 3 * (this.config.gossipIntervalMs ?? 1000))) return null;
    const t = this.currentTopology;
    if (t.readRing.tokenCount === 0) return null;
    const replaces = this.config.replaces;
    if (replaces !== undefined) {
      const dead = t.members().find((m) => m.id === replaces);
      return dead !== undefined && dead.tokens.length > 0 ? [...dead.tokens] : null;
    }
    const n = Math.max(1, ...keyspaces.all().map((k) => k.replicationFactor));
    const vnodes = this.config.vnodes ?? this.config.members.find((m) => m.tokens.length > 0)?.tokens.length ?? 8;
    return balancedTokens(t.targetRing, vnodes, 1, n, this.env.rng);
  }

  /** Periodic work: probe peers believed down, replay hints, look for ring changes in peers' app states. */
  private background(): void {
    this.membership.refresh();
    this.cleanup?.tick();
    const probeMs = this.config.probeIntervalMs ?? 200;
    for (const node of this.reachability.downNodes()) this.rpc.tell(node, { t: 'ping' }, probeMs);
    this.hints.replay(
      (node) => this.liveness.isUp(node),
      (target, ks, key, value, done) => {
        this.rpc.call(target, { t: 'write', ks, key, value, origin: 'hint', hintFor: null }, this.config.requestTimeoutMs, (reply) => {
          const ok = reply?.t === 'write_ok';
          if (ok) this.mark('hint replayed');
          done(ok);
        });
      },
    );
  }

  private serveScan(request: Extract<Message, { t: 'scan' }>, reply: ReplyTo): void {
    try {
      const page = this.replicas.scan(request.ks, request.start ?? undefined, request.end ?? undefined, request.limit, !request.bulk);
      reply({ t: 'scan_ok', id: request.id, items: page.records.map((r) => ({ key: r.key, value: r.value })), more: page.more });
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      this.mark('replica scan corrupt');
      reply({ t: 'fail', id: request.id, code: 'corruption', message: `${this.env.nodeId}: ${err.message}`, definite: false });
    }
  }
}
