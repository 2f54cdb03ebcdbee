// Which directed links of the simulated network are cut. A partition is a
// set of cuts; a cut blocks every frame from one of its sources to one of its
// targets. A node is never cut from itself, and a node no cut names is not
// affected (partitioning [[a], [b]] leaves c talking to both). Cuts add up
// until heal() removes them all; automatic (random) partitions are tagged so
// the network can heal its own without touching the ones a scenario made.

import { assert } from '../io/assert.ts';
import type { PartitionMode, PartitionSymmetry } from './packet_fault_options.ts';
import type { SimRng } from './sim_rng.ts';

/** 'all' stands for every node, including ones that join later. */
type NodeSet = ReadonlySet<string> | 'all';

interface Cut {
  readonly sources: NodeSet;
  readonly targets: NodeSet;
  readonly automatic: boolean;
  readonly label: string;
}

const has = (set: NodeSet, node: string): boolean => set === 'all' || set.has(node);

export class NetworkPartitions {
  private cuts: Cut[] = [];
  /** Bumped on every change, so links can cache their blocked state. */
  private changes = 0;

  get version(): number {
    return this.changes;
  }

  /** Whether frames from `from` to `to` are blocked. */
  blocks(from: string, to: string): boolean {
    if (from === to) return false;
    for (const cut of this.cuts) if (has(cut.sources, from) && has(cut.targets, to)) return true;
    return false;
  }

  /** Symmetric: no frames between nodes of different groups. Groups must be disjoint. */
  partition(groups: readonly (readonly string[])[], automatic = false): void {
    assert(groups.length >= 2, `partition: need at least two groups, got ${groups.length}`);
    const seen = new Set<string>();
    for (const group of groups) {
      assert(group.length > 0, 'partition: empty group');
      for (const node of group) {
        assert(!seen.has(node), `partition: ${node} is in two groups`);
        seen.add(node);
      }
    }
    const label = groups.map((g) => g.join(',')).join(' | ');
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i !== j) this.add({ sources: new Set(groups[i]), targets: new Set(groups[j]), automatic, label });
      }
    }
  }

  /** Frames from any of `from` to any of `to` are dropped; the reverse direction still flows. */
  partitionOneWay(from: readonly string[], to: readonly string[], automatic = false): void {
    assert(from.length > 0 && to.length > 0, 'partitionOneWay: empty side');
    for (const node of from) assert(!to.includes(node), `partitionOneWay: ${node} is on both sides`);
    this.add({ sources: new Set(from), targets: new Set(to), automatic, label: `${from.join(',')} -> ${to.join(',')}` });
  }

  /** Cuts `node` off from every other node, both ways. */
  isolate(node: string, automatic = false): void {
    const only = new Set([node]);
    this.add({ sources: only, targets: 'all', automatic, label: `isolate ${node}` });
    this.add({ sources: 'all', targets: only, automatic, label: `isolate ${node}` });
  }

  /** Removes every cut. */
  heal(): void {
    if (this.cuts.length === 0) return;
    this.cuts = [];
    this.changes++;
  }

  /** Removes the automatic cuts only; returns whether there were any. */
  healAutomatic(): boolean {
    const kept = this.cuts.filter((c) => !c.automatic);
    if (kept.length === this.cuts.length) return false;
    this.cuts = kept;
    this.changes++;
    return true;
  }

  hasAutomatic(): boolean {
    return this.cuts.some((c) => c.automatic);
  }

  /** Distinct partitions in force, readable (for traces and failure reports). */
  describe(): string[] {
    return [...new Set(this.cuts.map((c) => (c.automatic ? `auto ${c.label}` : c.label)))];
  }

  private add(cut: Cut): void {
    this.cuts.push(cut);
    this.changes++;
  }
}

/** A random partition of `nodes` as two sides; null when fewer than two nodes or mode 'none'. */
export function drawPartitionSides(rng: SimRng, nodes: readonly string[], mode: PartitionMode): [string[], string[]] | null {
  if (mode === 'none' || nodes.length < 2) return null;
  const shuffled = rng.shuffle(nodes);
  switch (mode) {
    case 'isolateSingle':
      return [shuffled.slice(0, 1), shuffled.slice(1)];
    case 'uniformSize': {
      const k = rng.intBetween(1, nodes.length - 1);
      return [shuffled.slice(0, k), shuffled.slice(k)];
    }
    case 'uniformPartition': {
      for (;;) {
        const a: string[] = [];
        const b: string[] = [];
        for (const node of nodes) (rng.chance(0.5) ? a : b).push(node);
        if (a.length > 0 && b.length > 0) return [a, b];
      }
    }
  }
}

/** Applies a random partition of `nodes` as automatic cuts; returns a description, or null if none was made. */
export function applyRandomPartition(
  partitions: NetworkPartitions,
  rng: SimRng,
  nodes: readonly string[],
  mode: PartitionMode,
  symmetry: PartitionSymmetry,
): string | null {
  const sides = drawPartitionSides(rng, nodes, mode);
  if (sides === null) return null;
  const [a, b] = sides;
  if (symmetry === 'symmetric') {
    partitions.partition([a, b], true);
    return `${a.join(',')} | ${b.join(',')}`;
  }
  partitions.partitionOneWay(a, b, true);
  return `${a.join(',')} -> ${b.join(',')}`;
}
