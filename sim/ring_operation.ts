// An operator changing the ring of a running simulated cluster: a node joins,
// a node is decommissioned, a node dies for good and is replaced or removed.
// The operator only starts each operation the way it would on a real cluster
// (core/ring_change/ring_phase_driver.ts does the rest, by gossip):
//
//   join          a new node opens with `join: true` (it picks its tokens, announces
//                 'joining', pulls its ranges, announces 'normal')
//   decommission  decommission() on the node (it announces 'leaving', waits for the new
//                 owners to catch up, announces 'left'); then it is shut down
//   replace       a new node opens with `join: true, replaces: dead` (it takes the dead
//                 node's tokens and gossips the dead node 'removed' at the end)
//   remove        removeNode(dead) on a live node (the survivors restore N copies, then
//                 the dead node is gossiped 'removed')
//
// The operator polls the node driving the operation: it is done once that
// node is idle and its topology shows the end state. A driving node that
// crashes resumes from its meta keys (a join or decommission) or is asked
// again (a removal: its gossiped intent died with its generation).

import { assert } from '../io/assert.ts';
import type { Topology } from '../core/ring/topology.ts';
import type { ClusterNode, SimCluster } from './cluster.ts';
import type { Simulator } from './simulator.ts';

export type RingChangeSpec =
  | { kind: 'join'; atMs: number }
  | { kind: 'decommission'; atMs: number; node: number }
  /** The node dies for good at atMs; the replacement starts deadForMs later. */
  | { kind: 'replace'; atMs: number; node: number; deadForMs: number }
  | { kind: 'remove'; atMs: number; node: number; deadForMs: number };

/** How often the operator looks at the driving node. */
const POLL_MS = 50;

export class RingOperation {
  done = false;
  /** What the operator did, with simulated times (for traces and reports). */
  readonly log: string[] = [];
  /** Records and bytes the nodes reported streaming, summed at the end. */
  streamed = { records: 0, bytes: 0 };

  constructor(
    private readonly sim: Simulator,
    private readonly cluster: SimCluster,
    private readonly spec: RingChangeSpec,
  ) {}

  start(): void {
    this.sim.schedule(this.spec.atMs, `ring change ${this.spec.kind}`, () => this.begin());
  }

  private note(what: string): void {
    this.log.push(`${Math.round(this.sim.nowMs())} ms: ${what}`);
    this.sim.trace(`ring change: ${what}`);
  }

  private begin(): void {
    const c = this.cluster;
    const spec = this.spec;
    c.ringChanging();
    switch (spec.kind) {
      case 'join': {
        const id = c.nextNodeId();
        this.note(`${id} starts with join`);
        c.addNode(id, { join: true });
        return this.until(() => {
          const node = c.node(id);
          return node !== null && idle(node) && node.topology!.phaseOf(id) === 'normal' ? node.topology! : null;
        });
      }
      case 'decommission': {
        const id = c.ids[spec.node]!;
        this.note(`${id} is decommissioned`);
        let asked: ClusterNode | null = null;
        return this.until(() => {
          const node = c.node(id);
          if (node === null) return null;
          const phase = node.topology!.phaseOf(id);
          if (phase === 'left' && idle(node)) {
            c.depart(id);
            return node.topology!;
          }
          if (phase === 'normal' && idle(node) && asked !== node) {
            asked = node;
            node.decommission!((err) => {
              if (err !== null) this.note(`decommission of ${id}: ${err.message}`);
            });
          }
          return null;
        });
      }
      case 'replace':
      case 'remove': {
        const dead = c.ids[spec.node]!;
        this.note(`${dead} dies for good`);
        c.kill(dead);
        this.sim.schedule(spec.deadForMs, `ring change ${spec.kind} starts`, () => {
          if (spec.kind === 'replace') {
            const id = c.nextNodeId();
            this.note(`${id} starts to replace ${dead}`);
            c.addNode(id, { join: true, replaces: dead });
            return this.until(() => {
              const node = c.node(id);
              if (node === null || !idle(node) || node.topology!.phaseOf(id) !== 'normal') return null;
              if (removed(node.topology!, dead)) {
                c.depart(dead);
                return node.topology!;
              }
              // Restarted after 'normal' but before the dead node was gossiped removed: finish by hand.
              this.askRemoval(node, dead);
              return null;
            });
          }
          this.note(`${dead} is removed`);
          let operator: ClusterNode | null = null;
          this.until(() => {
            if (operator !== null && c.readyIds().some((id) => c.node(id) === operator) && idle(operator) && removed(operator.topology!, dead)) {
              c.depart(dead);
              return operator.topology!;
            }
            if (operator === null || !c.readyIds().some((id) => c.node(id) === operator) || idle(operator)) {
              const id = c.readyIds().find((r) => r !== dead);
              operator = id === undefined ? null : c.node(id);
              if (operator !== null) this.askRemoval(operator, dead);
            }
            return null;
          });
        });
      }
    }
  }

  private askRemoval(node: ClusterNode, dead: string): void {
    node.removeNode!(dead, (err) => {
      if (err !== null) this.sim.trace(`ring change: removal of ${dead} refused: ${err.message}`);
    });
  }

  /** Polls `finished` until it gives the final topology. */
  private until(finished: () => Topology | null): void {
    const poll = (): void => {
      const final = finished();
      if (final === null) return void this.sim.schedule(POLL_MS, 'ring change poll', poll);
      assert(!final.moving, 'a ring change ended with ranges still moving');
      for (const id of this.cluster.readyIds()) {
        const p = this.cluster.node(id)!.rangeStreamProgress?.() ?? null;
        if (p !== null) {
          this.streamed.records += p.records;
          this.streamed.bytes += p.bytes;
        }
      }
      this.cluster.setTopology(final);
      this.note(`done (${this.streamed.records} records, ${this.streamed.bytes} bytes streamed)`);
      this.done = true;
    };
    poll();
  }
}

function idle(node: ClusterNode): boolean {
  return node.ringOperation!() === null;
}

function removed(t: Topology, dead: string): boolean {
  const phase = t.phaseOf(dead);
  return phase === undefined || phase === 'removed';
}
