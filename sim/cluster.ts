// A cluster of store nodes inside one Simulator: the members and their
// vnode tokens (one ring, built identically by every node from the member
// list), the simulated network between them, and each node's life: opened
// on its disk, crashed, reopened on the same disk after a crash (recovering
// whatever the crash left). Checkers read the cluster through `finalState`:
// what every home replica of every key holds.
//
// The ring may change while the cluster runs (ring_operation.ts): nodes are
// added, decommissioned, killed for good and replaced or removed; the nodes
// carry each change by gossip. The cluster keeps the topology the last
// finished change ended with, lists it in the configuration of every node it
// opens, and judges the final state on it. Nodes that gave ranges away keep their copies (nothing cleans
// them up yet), so once the ring has changed a record held by a node that is
// no longer its replica is left out instead of being an error.
//
// A node whose open fails (its disk too damaged to recover) is handled by the
// scenario's policy: 'fail' ends the run with the error (a node must recover
// from the faults the scenario injects); 'lose' keeps the node down for the
// rest of the run, the fault model's permanent loss of a node. (Replacing it
// by an empty node would be unsound: an empty replica answering reads breaks
// the quorum intersection that STRONG and durability rest on, until it has
// been rebuilt, which the node cannot do yet.)

import { AssertionError, assert } from '../io/assert.ts';
import type { Env } from '../io/env.ts';
import type { ClusterMember, KeyspaceConfig, NodeConfig } from '../core/node.ts';
import type {
  DeleteRequest,
  GetRequest,
  GetResponse,
  PutRequest,
  ReplicaRecord,
  WriteResponse,
} from '../core/replication/requests.ts';
import { keyToken } from '../core/ring/key_hash.ts';
import { Ring } from '../core/ring/ring.ts';
import { randomTokens } from '../core/ring/token_allocator.ts';
import { Topology } from '../core/ring/topology.ts';
import type { StreamProgress } from '../core/ring_change/range_streamer.ts';
import { type RingChangeSpec, RingOperation } from './ring_operation.ts';
import type { FinalState, KeyReplicas } from './checkers/final_state.ts';
import { SimNetwork } from './sim_network.ts';
import type { PacketFaultOptions } from './packet_fault_options.ts';
import type { AddNodeOptions, Simulator } from './simulator.ts';
import { valueBytes, valueText } from './workload_value.ts';

/** The StoreNode operations the simulation drives (the node contract of core/node.ts). */
export interface ClusterNode {
  get(req: GetRequest, cb: (res: GetResponse) => void): void;
  put(req: PutRequest, cb: (res: WriteResponse) => void): void;
  delete(req: DeleteRequest, cb: (res: WriteResponse) => void): void;
  dumpReplicaRecords(): ReplicaRecord[];
  pendingHints(): Map<string, number>;
  marks(): Map<string, number>;
  /** Ring changes (StoreNode; absent from test doubles that do not move ranges). */
  readonly topology?: Topology;
  decommission?(cb: (err: Error | null) => void): void;
  removeNode?(deadId: string, cb: (err: Error | null) => void): void;
  ringOperation?(): { kind: string; waitingFor: string } | null;
  rangeStreamProgress?(): StreamProgress | null;
}

/** Opens a node on `env` (StoreNode.open, or a test double). */
export type NodeOpener = (env: Env, config: NodeConfig, cb: (err: Error | null, node?: ClusterNode) => void) => void;

export type OpenFailurePolicy = 'fail' | 'lose';

export interface ClusterSpec {
  nodes: number;
  /** Tokens per node; default 8. */
  vnodes?: number;
  keyspaces: KeyspaceConfig[];
  /** Overrides of the node settings (defaults: DEFAULT_NODE_SETTINGS). */
  settings?: Partial<Omit<NodeConfig, 'nodeId' | 'members' | 'keyspaces'>>;
  /** The network's settings outside fault phases (delays); default a healthy LAN. */
  network?: Partial<PacketFaultOptions>;
  onOpenFailure?: OpenFailurePolicy;
  /** Ring changes an operator makes while the workload runs (times from the start of the safety phase). */
  ringChanges?: RingChangeSpec[];
}

export const DEFAULT_NODE_SETTINGS: Readonly<Omit<NodeConfig, 'nodeId' | 'members' | 'keyspaces'>> = Object.freeze({
  requestTimeoutMs: 1000,
  hintWindowMs: 60_000,
  maxHintsPerTarget: 10_000,
  hintReplayBytesPerSec: 1 << 20,
  maxKeyBytes: 256,
  maxValueBytes: 4096,
});

interface Member {
  readonly id: string;
  node: ClusterNode | null;
  opening: boolean;
  /** Incarnation the node (or the open in progress) belongs to. */
  incarnation: number;
}

export class SimCluster {
  readonly ids: string[];
  readonly net: SimNetwork;
  private current: Topology;
  /** members as last built, and the topology it was built from. */
  private membersList: ClusterMember[] = [];
  private membersOf: Topology | null = null;
  /** Whether the ring changed during the run. */
  private ringChanged = false;
  /** Nodes that left the cluster or were removed: no longer members, never restarted. */
  private readonly departed = new Set<string>();
  private readonly operations: RingOperation[] = [];
  private readonly state = new Map<string, Member>();
  private readonly keyspaces = new Map<string, KeyspaceConfig>();
  /** Marks of incarnations that are gone, added up. */
  private readonly pastMarks = new Map<string, number>();
  /** Opens that failed and how they were handled, in order. */
  readonly openFailures: string[] = [];
  /** Nodes lost for good (their disk could not be opened), with why. */
  private readonly lost = new Map<string, string>();
  /** Configuration a node was added with beyond the cluster's (join, replaces). */
  private readonly extraConfig = new Map<string, Partial<NodeConfig>>();
  private fatal: Error | null = null;

  constructor(
    private readonly sim: Simulator,
    private readonly spec: ClusterSpec,
    private readonly opener: NodeOpener,
    private readonly nodeOptions: (index: number) => AddNodeOptions = () => ({}),
  ) {
    assert(Number.isInteger(spec.nodes) && spec.nodes >= 1, `cluster of ${spec.nodes} nodes`);
    for (const ks of spec.keyspaces) this.keyspaces.set(ks.name, ks);
    this.ids = Array.from({ length: spec.nodes }, (_, i) => `n${i + 1}`);
    const tokenRng = sim.rng.fork('cluster-tokens');
    let ring = Ring.EMPTY;
    for (const id of this.ids) ring = ring.withNode(id, randomTokens(ring, spec.vnodes ?? 8, tokenRng));
    this.current = Topology.allNormal(this.ids.map((id) => ({ id, tokens: ring.tokensOf(id) })));
    this.ids.forEach((id, i) => {
      sim.addNode(id, nodeOptions(i));
      this.state.set(id, { id, node: null, opening: false, incarnation: 0 });
    });
    this.net = SimNetwork.attach(sim, spec.network ?? {});
  }

  config(nodeId: string): NodeConfig {
    return { ...DEFAULT_NODE_SETTINGS, ...this.spec.settings, ...this.extraConfig.get(nodeId), nodeId, members: this.members, keyspaces: this.spec.keyspaces };
  }

  /**
   * The members with their tokens (and phase, where not 'normal'), as every
   * node's configuration lists them. One frozen list per topology, holding
   * the topology's own token arrays: a node reopening on an unchanged ring
   * then finds the topology it builds from them already made (Topology.of
   * compares arrays by identity first) instead of sorting copies again.
   */
  get members(): ClusterMember[] {
    if (this.membersOf !== this.current) {
      const list = this.current.members().map((m) => Object.freeze({ id: m.id, tokens: m.tokens as bigint[], ...(m.phase !== 'normal' ? { phase: m.phase } : {}) }));
      this.membersList = Object.freeze(list) as ClusterMember[];
      this.membersOf = this.current;
    }
    return this.membersList;
  }

  /** The current read ring. */
  get ring(): Ring {
    return this.current.readRing;
  }

  get topology(): Topology {
    return this.current;
  }

  /** Records the topology a finished ring change ended with (the nodes learned it by gossip). */
  setTopology(topology: Topology): void {
    this.current = topology;
    this.ringChanged = true;
    this.sim.trace(`cluster topology ${topology.version}`);
  }

  /** A ring change has started: replicas may hold keys of ranges they no longer own. */
  ringChanging(): void {
    this.ringChanged = true;
  }

  /** Schedules the spec's ring changes (call when the safety phase starts). */
  startRingChanges(): void {
    for (const change of this.spec.ringChanges ?? []) {
      const op = new RingOperation(this.sim, this, change);
      this.operations.push(op);
      op.start();
    }
  }

  ringChangesDone(): boolean {
    return this.operations.every((op) => op.done);
  }

  /** What each ring change did. */
  ringChangeLog(): string[] {
    return this.operations.flatMap((op) => op.log);
  }

  /** Records and bytes streamed by the ring changes. */
  streamedTotals(): { records: number; bytes: number } {
    return this.operations.reduce((a, op) => ({ records: a.records + op.streamed.records, bytes: a.bytes + op.streamed.bytes }), { records: 0, bytes: 0 });
  }

  /** The largest replication factor of the keyspaces. */
  maxReplicationFactor(): number {
    return Math.max(3, ...this.spec.keyspaces.map((k) => k.replicationFactor));
  }

  nextNodeId(): string {
    return `n${this.ids.length + 1}`;
  }

  /** A new node on a fresh disk, opened with `extra` in its configuration (join, replaces). */
  addNode(id: string, extra: Partial<NodeConfig>): void {
    assert(!this.state.has(id), `${id} exists`);
    this.extraConfig.set(id, extra);
    this.sim.addNode(id, this.nodeOptions(this.ids.length));
    this.ids.push(id);
    this.state.set(id, { id, node: null, opening: false, incarnation: 0 });
    this.open(id);
  }

  /** The node dies for good: down, never restarted, its disk gone. */
  kill(id: string): void {
    if (this.sim.isUp(id)) this.crash(id);
    this.lost.set(id, 'killed by the operator');
  }

  /** The node is no longer a member (left or removed): shut down for good and out of every check. */
  depart(id: string): void {
    if (this.sim.isUp(id)) this.crash(id);
    this.lost.delete(id);
    this.departed.add(id);
  }

  /** Opens every node that is up and not open. */
  startAll(): void {
    for (const id of this.ids) if (this.sim.isUp(id) && this.member(id).node === null && !this.member(id).opening) this.open(id);
  }

  allReady(): boolean {
    this.throwIfFatal();
    return this.ids.every((id) => this.member(id).node !== null || this.lost.has(id) || this.departed.has(id));
  }

  /** The open node `id`, or null while it is down or opening. */
  node(id: string): ClusterNode | null {
    return this.member(id).node;
  }

  readyIds(): string[] {
    return this.ids.filter((id) => this.member(id).node !== null);
  }

  /** Nodes down that can come back (not lost). */
  downIds(): string[] {
    return this.ids.filter((id) => !this.sim.isUp(id) && !this.lost.has(id) && !this.departed.has(id));
  }

  isLost(id: string): boolean {
    return this.lost.has(id) || this.departed.has(id);
  }

  crash(id: string): void {
    const m = this.member(id);
    if (m.node !== null) this.addPastMarks(m.node);
    m.node = null;
    m.opening = false;
    this.sim.crash(id);
  }

  /** Restarts a crashed node and reopens it on its disk (a lost node stays down). */
  restart(id: string): void {
    if (this.lost.has(id) || this.departed.has(id)) return;
    this.sim.restart(id);
    this.open(id);
  }

  /** An error the cluster could not handle (a node that failed to open under the 'fail' policy). */
  throwIfFatal(): void {
    if (this.fatal !== null) throw this.fatal;
  }

  keyspace(name: string): KeyspaceConfig {
    const ks = this.keyspaces.get(name);
    assert(ks !== undefined, `unknown keyspace ${name}`);
    return ks;
  }

  homeReplicas(keyspace: string, key: string): string[] {
    return this.ring.preferenceList(keyToken(valueBytes(key)), this.keyspace(keyspace).replicationFactor);
  }

  /** Coverage marks of every incarnation so far, added up. */
  marks(): Map<string, number> {
    const total = new Map(this.pastMarks);
    for (const id of this.ids) {
      const node = this.member(id).node;
      if (node === null) continue;
      for (const [mark, n] of node.marks()) total.set(mark, (total.get(mark) ?? 0) + n);
    }
    return new Map([...total].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }

  pendingHints(): number {
    let n = 0;
    for (const id of this.readyIds()) for (const count of this.node(id)!.pendingHints().values()) n += count;
    return n;
  }

  /**
   * What each home replica holds, for the keys given and every key any
   * replica holds. Every node must be open (the liveness phase brings them up).
   * A node that fails to list its records is reported as unreadable, a node
   * lost for good as lost; both are left out of every key's replicas.
   */
  finalState(keys: readonly { keyspace: string; key: string }[]): FinalState {
    const held = new Map<string, Map<string, ReplicaRecord>>(); // ks/key -> node -> record
    const order: { keyspace: string; key: string }[] = [];
    const note = (keyspace: string, key: string): string => {
      const k = `${keyspace}/${key}`;
      if (!held.has(k)) {
        held.set(k, new Map());
        order.push({ keyspace, key });
      }
      return k;
    };
    for (const k of keys) note(k.keyspace, k.key);
    const unreadable: { node: string; error: string }[] = [];
    const lost: { node: string; why: string }[] = [];
    for (const id of this.ids) {
      if (this.departed.has(id)) continue;
      const lostWhy = this.lost.get(id);
      if (lostWhy !== undefined) {
        lost.push({ node: id, why: lostWhy });
        continue;
      }
      const node = this.node(id);
      assert(node !== null, `finalState: node ${id} is not open`);
      let records: ReplicaRecord[];
      try {
        records = node.dumpReplicaRecords();
      } catch (err) {
        // The node's own report of damage (a CorruptionError); an assertion or a JavaScript error is a bug of the run.
        if (!(err instanceof Error) || err instanceof AssertionError || err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) throw err;
        unreadable.push({ node: id, error: `${err.name}: ${err.message}` });
        continue;
      }
      for (const record of records) {
        const k = note(record.keyspace, valueText(record.key));
        const byNode = held.get(k)!;
        assert(!byNode.has(id), `node ${id} dumped ${k} twice`);
        byNode.set(id, record);
      }
    }
    const skipped = new Set([...unreadable.map((u) => u.node), ...lost.map((l) => l.node)]);
    const keyReplicas = order.map(({ keyspace, key }): KeyReplicas => {
      const byNode = held.get(`${keyspace}/${key}`)!;
      const ks = this.keyspace(keyspace);
      const home = this.homeReplicas(keyspace, key);
      for (const node of byNode.keys()) assert(this.ringChanged || home.includes(node), `node ${node} holds ${keyspace}/${key} as a home replica but is not one (home: ${home.join(',')})`);
      const readable = home.filter((node) => !skipped.has(node));
      return { keyspace, key, mode: ks.conflictMode, replicas: readable.map((node) => ({ node, value: byNode.get(node)?.value ?? null })) };
    });
    return { keys: keyReplicas, unreadable, lost };
  }

  // ---- internals ----

  private member(id: string): Member {
    const m = this.state.get(id);
    assert(m !== undefined, `unknown node ${id}`);
    return m;
  }

  private open(id: string): void {
    const m = this.member(id);
    const simNode = this.sim.node(id);
    assert(this.sim.isUp(id) && m.node === null, `open ${id}: down or already open`);
    m.opening = true;
    m.incarnation = simNode.incarnation;
    let answered = false;
    this.opener(simNode.env, this.config(id), (err, node) => {
      assert(!answered, `open of ${id} answered twice`);
      answered = true;
      // An open that outlived its incarnation (the node crashed meanwhile) is moot.
      if (!this.sim.isUp(id) || this.sim.node(id).incarnation !== m.incarnation) return;
      m.opening = false;
      if (err === null) {
        assert(node !== undefined, `open of ${id} succeeded without a node`);
        m.node = node;
        this.sim.trace(`cluster ${id} open`);
        return;
      }
      this.openFailed(id, err);
    });
  }

  private openFailed(id: string, err: Error): void {
    const what = `${id} failed to open its disk at ${Math.round(this.sim.nowMs())} ms: ${err.name}: ${err.message}`;
    this.sim.trace(`cluster open failed ${id}`);
    if ((this.spec.onOpenFailure ?? 'fail') === 'fail') {
      this.fatal ??= new Error(`node ${what}`);
      this.openFailures.push(`${what} (run ends)`);
      return;
    }
    this.openFailures.push(`${what}; the node is lost for the rest of the run`);
    this.lost.set(id, `${err.name}: ${err.message}`);
    // A world event, so the failed incarnation's own event has returned before it goes down.
    this.sim.schedule(0, `lose ${id}`, () => {
      if (this.sim.isUp(id)) this.sim.crash(id);
    });
  }

  private addPastMarks(node: ClusterNode): void {
    for (const [mark, n] of node.marks()) this.pastMarks.set(mark, (this.pastMarks.get(mark) ?? 0) + n);
  }
}
