// The faults of a scenario's safety phase, seeded, then the liveness phase.
//
// Safety phase: random fault processes, each a Poisson process of its own
// (mean intervals in the spec), plus a script of faults at fixed times:
//   - network: loss, duplication, reordering (PacketFaultOptions);
//   - partitions: a random split into two sides, one node isolated, or a
//     one-way cut, each healed after an exponential duration;
//   - crashes: a random up node crashes (never more than `maxDown` down at
//     once) and restarts after an exponential downtime, reopening its disk;
//   - disk: bits flipped at rest in a random node's durable files, and read
//     errors at a rate;
//   - clocks: a skew and a drift per node from the start, and jumps.
// Liveness phase (`heal`): every fault process stops, the network quiesces
// (partitions healed, loss and duplication off), read errors stop, every
// crashed node restarts (except one lost for good, see cluster.ts). Skews stay: a skewed clock is a condition, not an
// event, and replication must converge in spite of it. Checks judge
// linearizability, durability and validity over the whole run, and
// convergence only after the liveness phase: safety must hold under any
// faults, liveness only once they stop.

import { assert } from '../io/assert.ts';
import type { EventId } from './event_queue.ts';
import type { SimCluster } from './cluster.ts';
import { drawPartitionSides } from './network_partitions.ts';
import type { PacketFaultOptions } from './packet_fault_options.ts';
import type { SimRng } from './sim_rng.ts';
import type { AddNodeOptions, Simulator } from './simulator.ts';

export type PartitionKind = 'split' | 'isolate' | 'one-way';

/** A fault at a fixed time of the safety phase; nodes by index into the cluster's nodes. */
export type ScriptedFault =
  | { atMs: number; action: 'crash' | 'restart' | 'isolate'; node: number }
  | { atMs: number; action: 'heal' }
  | { atMs: number; action: 'partition'; groups: number[][] }
  | { atMs: number; action: 'one-way'; from: number[]; to: number[] }
  | { atMs: number; action: 'flip-bits'; node: number; bits: number }
  | { atMs: number; action: 'clock-jump'; node: number; ms: number };

export interface FaultSpec {
  /** Network faults in force during the safety phase. */
  network?: Partial<PacketFaultOptions>;
  partitions?: { meanIntervalMs: number; meanDurationMs: number; kinds: PartitionKind[] };
  crashes?: { meanIntervalMs: number; meanDownMs: number; maxDown: number };
  /** Bits flipped per event on a random node among `nodes` (default: any node). */
  bitFlips?: { meanIntervalMs: number; bits: number; nodes?: number[] };
  readErrorRate?: number;
  clocks?: {
    /** Each node's initial wall-clock offset, uniform in [-skewMs, skewMs]. */
    skewMs: number;
    /** Each node's drift, uniform in [-driftPpm, driftPpm]. */
    driftPpm?: number;
    /** Nodes (by index) whose clock is instead exactly `aheadMs` ahead. */
    fast?: { nodes: number[]; aheadMs: number };
    jumps?: { meanIntervalMs: number; maxMs: number };
  };
  script?: ScriptedFault[];
}

export class FaultSchedule {
  private readonly pending = new Set<EventId>();
  private running = false;
  private partitioned = false;
  /** One line per fault injected, in order (for reports). */
  readonly log: string[] = [];

  constructor(
    private readonly spec: FaultSpec,
    private readonly rng: SimRng,
  ) {
    for (const f of spec.script ?? []) assert(f.atMs >= 0, `scripted fault at ${f.atMs}`);
    assert(spec.crashes === undefined || spec.crashes.maxDown >= 0, 'maxDown < 0');
  }

  /** Clock settings of node `index` (skew and drift), drawn from the spec. */
  nodeOptions(index: number): AddNodeOptions {
    const c = this.spec.clocks;
    if (c === undefined) return {};
    const drawn = this.rng.between(-c.skewMs, c.skewMs);
    const skew = c.fast?.nodes.includes(index) ? c.fast.aheadMs : drawn;
    const drift = c.driftPpm === undefined ? 0 : this.rng.between(-c.driftPpm, c.driftPpm);
    return { clockSkewMs: skew, clockDriftPpm: drift };
  }

  /** Starts the safety phase's faults now. */
  start(sim: Simulator, cluster: SimCluster): void {
    assert(!this.running, 'fault schedule started twice');
    this.running = true;
    const s = this.spec;
    if (s.network !== undefined) cluster.net.setFaults(s.network);
    if (s.readErrorRate !== undefined) for (const id of cluster.ids) sim.node(id).disk.setReadErrorRate(s.readErrorRate);
    for (const f of s.script ?? []) this.at(sim, f.atMs, `fault ${f.action}`, () => this.scripted(sim, cluster, f));
    if (s.partitions !== undefined) this.every(sim, s.partitions.meanIntervalMs, 'fault partition', () => this.partition(sim, cluster));
    if (s.crashes !== undefined) this.every(sim, s.crashes.meanIntervalMs, 'fault crash', () => this.crash(sim, cluster));
    const flips = s.bitFlips;
    if (flips !== undefined) {
      const targets = flips.nodes === undefined ? cluster.ids : flips.nodes.map((i) => cluster.ids[i]!);
      assert(targets.every((t) => t !== undefined) && targets.length > 0, 'bitFlips: bad node list');
      this.every(sim, flips.meanIntervalMs, 'fault bit flips', () => this.flip(sim, cluster, this.rng.pick(targets), flips.bits));
    }
    const jumps = s.clocks?.jumps;
    if (jumps !== undefined) {
      this.every(sim, jumps.meanIntervalMs, 'fault clock jump', () => this.jump(sim, this.rng.pick(cluster.ids), this.rng.between(-jumps.maxMs, jumps.maxMs)));
    }
  }

  /** Ends the safety phase: no more faults, network quiet, read errors off, every node restarted. */
  heal(sim: Simulator, cluster: SimCluster): void {
    this.running = false;
    for (const id of this.pending) sim.cancel(id);
    this.pending.clear();
    cluster.net.quiesce();
    this.partitioned = false;
    for (const id of cluster.ids) sim.node(id).disk.setReadErrorRate(0);
    for (const id of cluster.downIds()) {
      this.note(sim, `restart ${id} (liveness phase)`);
      cluster.restart(id);
    }
  }

  // ---- internals ----

  private note(sim: Simulator, what: string): void {
    this.log.push(`${Math.round(sim.nowMs())} ms: ${what}`);
    sim.trace(`fault ${what}`);
  }

  private at(sim: Simulator, delayMs: number, kind: string, fn: () => void): void {
    const id = sim.schedule(delayMs, kind, () => {
      this.pending.delete(id);
      if (this.running) fn();
    });
    this.pending.add(id);
  }

  /** A Poisson process: `fn` after each exponential gap, while running. */
  private every(sim: Simulator, meanMs: number, kind: string, fn: () => void): void {
    assert(meanMs > 0, `${kind}: mean interval ${meanMs}`);
    this.at(sim, this.rng.exponential(meanMs), kind, () => {
      fn();
      this.every(sim, meanMs, kind, fn);
    });
  }

  private scripted(sim: Simulator, cluster: SimCluster, f: ScriptedFault): void {
    const id = (i: number): string => {
      assert(i >= 0 && i < cluster.ids.length, `scripted fault names node ${i} of ${cluster.ids.length}`);
      return cluster.ids[i]!;
    };
    switch (f.action) {
      case 'crash':
        if (sim.isUp(id(f.node))) this.crashNode(sim, cluster, id(f.node));
        return;
      case 'restart':
        if (!sim.isUp(id(f.node)) && !cluster.isLost(id(f.node))) this.restartNode(sim, cluster, id(f.node));
        return;
      case 'isolate':
        this.note(sim, `isolate ${id(f.node)}`);
        cluster.net.isolate(id(f.node));
        return;
      case 'heal':
        this.note(sim, 'heal partitions');
        cluster.net.heal();
        this.partitioned = false;
        return;
      case 'partition':
        this.note(sim, `partition ${f.groups.map((g) => g.map(id).join(',')).join(' | ')}`);
        cluster.net.partition(f.groups.map((g) => g.map(id)));
        return;
      case 'one-way':
        this.note(sim, `one-way ${f.from.map(id).join(',')} -> ${f.to.map(id).join(',')}`);
        cluster.net.partitionOneWay(f.from.map(id), f.to.map(id));
        return;
      case 'flip-bits':
        this.flip(sim, cluster, id(f.node), f.bits);
        return;
      case 'clock-jump':
        this.jump(sim, id(f.node), f.ms);
        return;
    }
  }

  private partition(sim: Simulator, cluster: SimCluster): void {
    const p = this.spec.partitions!;
    if (this.partitioned) return;
    const kind = this.rng.pick(p.kinds);
    const ids = cluster.ids;
    if (kind === 'isolate') {
      const victim = this.rng.pick(ids);
      this.note(sim, `isolate ${victim}`);
      cluster.net.isolate(victim);
    } else {
      const sides = drawPartitionSides(this.rng, ids, 'uniformSize');
      if (sides === null) return;
      const [a, b] = sides;
      if (kind === 'split') {
        this.note(sim, `partition ${a.join(',')} | ${b.join(',')}`);
        cluster.net.partition([a, b]);
      } else {
        this.note(sim, `one-way ${a.join(',')} -> ${b.join(',')}`);
        cluster.net.partitionOneWay(a, b);
      }
    }
    this.partitioned = true;
    this.at(sim, this.rng.exponential(p.meanDurationMs), 'fault heal', () => {
      this.note(sim, 'heal partitions');
      cluster.net.heal();
      this.partitioned = false;
    });
  }

  private crash(sim: Simulator, cluster: SimCluster): void {
    const c = this.spec.crashes!;
    const up = cluster.ids.filter((id) => sim.isUp(id));
    if (cluster.ids.length - up.length >= c.maxDown || up.length === 0) return;
    const victim = this.rng.pick(up);
    this.crashNode(sim, cluster, victim);
    this.at(sim, this.rng.exponential(c.meanDownMs), 'fault restart', () => {
      if (!sim.isUp(victim) && !cluster.isLost(victim)) this.restartNode(sim, cluster, victim);
    });
  }

  private crashNode(sim: Simulator, cluster: SimCluster, id: string): void {
    this.note(sim, `crash ${id}`);
    cluster.crash(id);
  }

  private restartNode(sim: Simulator, cluster: SimCluster, id: string): void {
    this.note(sim, `restart ${id}`);
    cluster.restart(id);
  }

  private flip(sim: Simulator, cluster: SimCluster, id: string, bits: number): void {
    const flips = sim.node(id).disk.flipRandomBits(this.rng, bits);
    if (flips.length > 0) this.note(sim, `flip ${flips.length} bits on ${id} (${[...new Set(flips.map((f) => f.name))].join(', ')})`);
  }

  private jump(sim: Simulator, id: string, ms: number): void {
    this.note(sim, `clock of ${id} jumps ${Math.round(ms)} ms`);
    sim.node(id).clock.jump(ms);
  }
}
