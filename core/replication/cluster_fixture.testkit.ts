// Test support only (imported by *.test.ts, never by the node): a small
// cluster of StoreNodes in one Simulator over a SimNetwork, with helpers that
// run the simulation until a request's callback has been called.

import { Simulator } from '../../sim/simulator.ts';
import { SimNetwork } from '../../sim/sim_network.ts';
import { Ring } from '../ring/ring.ts';
import { randomTokens } from '../ring/token_allocator.ts';
import { type ClusterMember, type NodeConfig, StoreNode, defaultNodeConfig } from '../node.ts';
import type { KeyspaceConfig } from './keyspace.ts';
import type { DeleteRequest, GetRequest, GetResponse, PutRequest, ScanRequest, ScanResponse, WriteResponse } from './requests.ts';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface FixtureOptions {
  nodes?: number;
  vnodes?: number;
  keyspaces?: KeyspaceConfig[];
  config?: Partial<NodeConfig>;
  /** Settings of one node, over `config`. */
  configOf?: (id: string) => Partial<NodeConfig>;
  clockSkewMs?: (index: number) => number;
}

export class ClusterFixture {
  readonly sim: Simulator;
  readonly net: SimNetwork;
  readonly ids: string[];
  readonly ring: Ring;
  readonly members: ClusterMember[];
  private readonly nodes = new Map<string, StoreNode | null>();

  constructor(
    seed: string,
    private readonly options: FixtureOptions = {},
  ) {
    this.sim = new Simulator({ seed });
    const n = options.nodes ?? 3;
    this.ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    const tokenRng = this.sim.rng.fork('tokens');
    let ring = Ring.EMPTY;
    for (const id of this.ids) ring = ring.withNode(id, randomTokens(ring, options.vnodes ?? 8, tokenRng));
    this.ring = ring;
    this.members = this.ids.map((id) => ({ id, tokens: ring.tokensOf(id) }));
    this.ids.forEach((id, i) => this.sim.addNode(id, { clockSkewMs: options.clockSkewMs?.(i) ?? 0, disk: { syncLatencyMs: [0.2, 2] } }));
    this.net = SimNetwork.attach(this.sim);
    for (const id of this.ids) this.open(id);
  }

  config(id: string): NodeConfig {
    return defaultNodeConfig(id, this.members, { keyspaces: this.options.keyspaces ?? [], ...this.options.config, ...this.options.configOf?.(id) });
  }

  node(id: string): StoreNode {
    const node = this.nodes.get(id);
    if (node === undefined || node === null) throw new Error(`node ${id} is not open`);
    return node;
  }

  open(id: string): StoreNode {
    const node = this.wait<StoreNode>((cb) =>
      StoreNode.open(this.sim.node(id).env, this.config(id), (err, opened) => {
        if (err !== null) throw err;
        cb(opened!);
      }),
    );
    this.nodes.set(id, node);
    return node;
  }

  isOpen(id: string): boolean {
    return !!this.nodes.get(id);
  }

  /** Restarts a crashed node and opens it without running the simulation (for use inside events). */
  restartLater(id: string, onOpen: () => void = () => {}): void {
    this.sim.restart(id);
    const incarnation = this.sim.node(id).incarnation;
    StoreNode.open(this.sim.node(id).env, this.config(id), (err, opened) => {
      if (err !== null) throw err;
      if (!this.sim.isUp(id) || this.sim.node(id).incarnation !== incarnation) return;
      this.nodes.set(id, opened!);
      onOpen();
    });
  }

  crash(id: string): void {
    this.nodes.set(id, null);
    this.sim.crash(id);
  }

  restart(id: string): StoreNode {
    this.sim.restart(id);
    return this.open(id);
  }

  /** Runs the simulation until `start`'s callback has been called. */
  wait<T>(start: (cb: (value: T) => void) => void, maxMs = 60_000): T {
    let result: { value: T } | undefined;
    let calls = 0;
    start((value) => {
      calls++;
      result = { value };
    });
    const until = this.sim.nowMs() + maxMs;
    this.sim.runUntil(() => result !== undefined, { untilMs: until });
    if (result === undefined) throw new Error(`callback not called within ${maxMs} ms of simulated time`);
    if (calls !== 1) throw new Error(`callback called ${calls} times`);
    return result.value;
  }

  /** Lets simulated time pass. */
  advance(ms: number): void {
    this.sim.run({ untilMs: this.sim.nowMs() + ms });
  }

  put(id: string, req: PutRequest): WriteResponse {
    return this.wait<WriteResponse>((cb) => this.node(id).put(req, cb));
  }

  get(id: string, req: GetRequest): GetResponse {
    return this.wait<GetResponse>((cb) => this.node(id).get(req, cb));
  }

  delete(id: string, req: DeleteRequest): WriteResponse {
    return this.wait<WriteResponse>((cb) => this.node(id).delete(req, cb));
  }

  scan(id: string, req: ScanRequest): ScanResponse {
    return this.wait<ScanResponse>((cb) => this.node(id).scan(req, cb));
  }

  /** Home replicas of a key in a keyspace of replication factor n. */
  home(key: string, n = 3): string[] {
    return this.ring.preferenceList(keyTokenOf(key), n);
  }

  /** Values (as text) each node holds as a home replica for the key, by node. */
  held(ks: string, key: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const id of this.ids) {
      const node = this.nodes.get(id);
      if (!node) continue;
      for (const r of node.dumpReplicaRecords()) {
        if (r.keyspace !== ks || dec(r.key) !== key) continue;
        const writes = r.value.mode === 'lww' ? [r.value.write] : r.value.dvv.entries.flatMap((e) => e.siblings.map((s) => s.value));
        out.set(id, writes.map((w) => (w.kind === 'value' ? dec(w.bytes) : '<tombstone>')).sort());
      }
    }
    return out;
  }

  /** Sum of a coverage mark over the open nodes. */
  markCount(name: string): number {
    let n = 0;
    for (const node of this.nodes.values()) if (node) n += node.marks().get(name) ?? 0;
    return n;
  }
}

import { keyToken } from '../ring/key_hash.ts';
function keyTokenOf(key: string): bigint {
  return keyToken(enc(key));
}
