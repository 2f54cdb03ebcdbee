// Test and bench support only (never imported by a node): a cluster of nodes
// that run nothing but a Gossiper each, in one Simulator over a SimNetwork.
// Nodes can crash and restart (a new Gossiper over the new incarnation's Env,
// with the generation the caller chooses), and the views can be compared.

import { assert } from '../../io/assert.ts';
import type { PacketFaultOptions } from '../../sim/packet_fault_options.ts';
import { SimNetwork } from '../../sim/sim_network.ts';
import type { Seed } from '../../sim/sim_rng.ts';
import { Simulator } from '../../sim/simulator.ts';
import { type GossipEvent, Gossiper, type GossiperOptions } from './gossip.ts';
import { encodeGossipPayload } from './gossip_messages.ts';

export interface GossipClusterOptions {
  nodes: number;
  seed: Seed;
  /** The first `seedNodes` nodes are the seeds. Default 3 (at most `nodes`). */
  seedNodes?: number;
  gossip?: Partial<Omit<GossiperOptions, 'generation' | 'seeds' | 'send'>>;
  /** Options for one node, over `gossip`. */
  perNode?: (id: string) => Partial<Omit<GossiperOptions, 'generation' | 'seeds' | 'send'>>;
  net?: Partial<PacketFaultOptions>;
  /** Each node's clock drifts by a uniform draw in ±this many ppm. Default 0. */
  clockDriftPpm?: number;
  traceKeepLines?: number;
}

export type ClusterEvent = GossipEvent & { readonly at: string; readonly timeMs: number };

export const nodeName = (i: number): string => `n${String(i).padStart(4, '0')}`;

export class GossipCluster {
  readonly sim: Simulator;
  readonly net: SimNetwork;
  readonly ids: string[];
  readonly seeds: string[];
  readonly intervalMs: number;
  private readonly gossipers = new Map<string, Gossiper>();
  private readonly generations = new Map<string, number>();
  private readonly listeners: ((event: ClusterEvent) => void)[] = [];

  constructor(private readonly options: GossipClusterOptions) {
    assert(Number.isInteger(options.nodes) && options.nodes >= 1, `cluster of ${options.nodes}`);
    this.sim = new Simulator({ seed: options.seed, traceKeepLines: options.traceKeepLines ?? 0 });
    this.ids = Array.from({ length: options.nodes }, (_, i) => nodeName(i));
    this.seeds = this.ids.slice(0, Math.min(options.seedNodes ?? 3, options.nodes));
    this.intervalMs = options.gossip?.intervalMs ?? 1000;
    const drift = options.clockDriftPpm ?? 0;
    const clocks = this.sim.rng.fork('clocks');
    for (const id of this.ids) this.sim.addNode(id, { clockDriftPpm: drift === 0 ? 0 : clocks.between(-drift, drift) });
    this.net = SimNetwork.attach(this.sim, options.net ?? {});
    for (const id of this.ids) this.launch(id, 1);
  }

  /** Every event of every gossiper, with the node that sent it and the time. */
  onEvent(listener: (event: ClusterEvent) => void): void {
    this.listeners.push(listener);
  }

  gossiper(id: string): Gossiper {
    const g = this.gossipers.get(id);
    assert(g !== undefined, `no gossiper ${id}`);
    return g;
  }

  /** Gossipers of the nodes that are up. */
  running(): Gossiper[] {
    return this.ids.filter((id) => this.sim.isUp(id)).map((id) => this.gossiper(id));
  }

  generationOf(id: string): number {
    return this.generations.get(id)!;
  }

  crash(id: string): void {
    this.gossiper(id).stop();
    this.sim.crash(id);
  }

  /** Restarts a crashed node with a new Gossiper at `generation` (default: one above its last). */
  restart(id: string, generation = this.generationOf(id) + 1): Gossiper {
    this.sim.restart(id);
    return this.launch(id, generation);
  }

  nowMs(): number {
    return this.sim.nowMs();
  }

  runFor(ms: number): void {
    this.sim.run({ untilMs: this.sim.nowMs() + ms });
  }

  /**
   * Runs in steps of `stepMs` until `done()` holds between steps, at most
   * `limitMs`; returns the time it held, or null. (Checking between steps,
   * not after every event, keeps a thousand-node run cheap.)
   */
  runUntil(done: () => boolean, limitMs: number, stepMs = this.intervalMs / 10): number | null {
    const end = this.sim.nowMs() + limitMs;
    while (!done()) {
      if (this.sim.nowMs() >= end) return null;
      this.sim.run({ untilMs: Math.min(end, this.sim.nowMs() + stepMs) });
    }
    return this.sim.nowMs();
  }

  /**
   * Hands every running node the whole state of every other, as one ACK2
   * payload through Gossiper.handleMessage (the multiplexer's entry, so it is
   * validated and merged as gossip would be): the membership a finished
   * bootstrap leaves, without simulating it. Nobody is believed up yet: that
   * takes heartbeats.
   */
  preloadMembership(): void {
    const running = this.running();
    const deltas = running.map((g) => g.localState.deltaAbove(0));
    const payload = encodeGossipPayload({ t: 'ack2', cluster: 'ringkv', deltas });
    for (const g of running) assert(g.handleMessage(running[0]!.nodeId, payload), `preload of ${g.nodeId} refused`);
  }

  /** Every running node knows every running node and believes it up. */
  allUp(): boolean {
    const running = this.running();
    for (const g of running) {
      if (g.liveMembers().length !== running.length - 1) return false;
      for (const other of running) if (!g.isUp(other.nodeId)) return false;
    }
    return true;
  }

  /** One line per node a running node knows: generation, status and tokens, so two views compare as strings. */
  viewOf(id: string): string[] {
    const g = this.gossiper(id);
    return g.knownNodes().map((n) => {
      const m = g.member(n)!;
      return `${n} g${m.generation} ${m.status} [${m.tokens.join(',')}] ${m.appStates().map(([k, v]) => `${k}=${v}`).join(';')}`;
    });
  }

  /** Every running node holds the same view, and believes every running node up. */
  oneView(): boolean {
    const running = this.running();
    const first = JSON.stringify(this.viewOf(running[0]!.nodeId));
    return running.every((g) => JSON.stringify(this.viewOf(g.nodeId)) === first) && this.allUp();
  }

  private launch(id: string, generation: number): Gossiper {
    const node = this.sim.node(id);
    const g = new Gossiper(node.env, { status: 'normal', ...this.options.gossip, ...this.options.perNode?.(id), generation, seeds: this.seeds });
    g.onChange((event) => {
      if (this.listeners.length === 0) return;
      const e = { ...event, at: id, timeMs: this.sim.nowMs() } as ClusterEvent;
      for (const l of this.listeners) l(e);
    });
    this.gossipers.set(id, g);
    this.generations.set(id, generation);
    g.start();
    return g;
  }
}
