// An operator changing the ring of a running simulated cluster: a node joins,
// a node is decommissioned, a node dies for good and is replaced or removed.
// Each operation moves the cluster through two topologies (topology.ts):
//
//   join          new node 'joining' (tokens by balanced allocation)  -> 'normal'
//   decommission  node 'leaving'                                      -> 'left' (then shut down)
//   replace       dead node 'leaving', new node 'joining' with its tokens -> 'removed' / 'normal'
//   remove        dead node 'leaving'                                 -> 'removed'
//
// After the first topology reaches every node, the operator waits a ring
// delay (longer than a request timeout, so no write coordinated under the
// old placement is still landing), then asks every node that gains ranges to
// stream them (core/ring_change/), and moves to the second topology once all
// of them have caught up. A receiver that crashes is asked again when it is
// back, and resumes from its checkpoints; a source that crashes delays the
// pages it owes until it is back.

import { assert } from '../io/assert.ts';
import { balancedTokens } from '../core/ring/token_allocator.ts';
import type { Topology } from '../core/ring/topology.ts';
import type { SimCluster } from './cluster.ts';
import type { Simulator } from './simulator.ts';

export type RingChangeSpec =
  | { kind: 'join'; atMs: number }
  | { kind: 'decommission'; atMs: number; node: number }
  /** The node dies for good at atMs; the replacement starts deadForMs later. */
  | { kind: 'replace'; atMs: number; node: number; deadForMs: number }
  | { kind: 'remove'; atMs: number; node: number; deadForMs: number };

/** How often the operator looks at the receivers' progress. */
const POLL_MS = 50;

export class RingOperation {
  done = false;
  /** What the operator did, with simulated times (for traces and reports). */
  readonly log: string[] = [];
  /** Records and bytes the receivers reported, summed at the end. */
  streamed = { records: 0, bytes: 0 };

  constructor(
    private readonly sim: Simulator,
    private readonly cluster: SimCluster,
    private readonly spec: RingChangeSpec,
    private readonly ringDelayMs: number,
    private readonly vnodes: number,
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
    const t = c.topology;
    const spec = this.spec;
    switch (spec.kind) {
      case 'join': {
        const id = c.nextNodeId();
        const n = c.maxReplicationFactor();
        const tokens = balancedTokens(t.targetRing, this.vnodes, 1, n, this.sim.rng.fork(`tokens:${id}`));
        this.note(`${id} joins with ${tokens.length} tokens`);
        const during = t.withMember(id, 'joining', tokens);
        c.setTopology(during);
        c.addNode(id);
        return this.streamThen(during, [id], [], () => c.setTopology(c.topology.withMember(id, 'normal')));
      }
      case 'decommission': {
        const id = c.ids[spec.node]!;
        this.note(`${id} is decommissioned`);
        const during = t.withMember(id, 'leaving');
        c.setTopology(during);
        return this.streamThen(during, this.others(during, [id]), [], () => {
          c.setTopology(c.topology.withMember(id, 'left'));
          c.depart(id);
        });
      }
      case 'replace':
      case 'remove': {
        const dead = c.ids[spec.node]!;
        this.note(`${dead} dies for good`);
        c.kill(dead);
        this.sim.schedule(spec.deadForMs, `ring change ${spec.kind} starts`, () => {
          const now = c.topology;
          if (spec.kind === 'remove') {
            this.note(`${dead} is removed`);
            const during = now.withMember(dead, 'leaving');
            c.setTopology(during);
            return this.streamThen(during, this.others(during, [dead]), [dead], () => {
              c.setTopology(c.topology.withMember(dead, 'removed'));
              c.depart(dead);
            });
          }
          const id = c.nextNodeId();
          this.note(`${id} replaces ${dead}`);
          const tokens = now.members().find((m) => m.id === dead)!.tokens;
          const during = now.withMember(dead, 'leaving').withMember(id, 'joining', tokens);
          c.setTopology(during);
          c.addNode(id);
          this.streamThen(during, [id], [dead], () => {
            c.setTopology(c.topology.withMember(dead, 'removed').withMember(id, 'normal'));
            c.depart(dead);
          });
        });
      }
    }
  }

  /** Members of `t` that take part in placement, less `except`. */
  private others(t: Topology, except: string[]): string[] {
    return t
      .members()
      .filter((m) => (m.phase === 'normal' || m.phase === 'joining') && !except.includes(m.id))
      .map((m) => m.id);
  }

  private streamThen(during: Topology, receivers: string[], dead: string[], finish: () => void): void {
    const poll = (): void => {
      assert(this.cluster.topology === during, 'one ring change at a time');
      let caughtUp = true;
      for (const id of receivers) {
        const node = this.cluster.node(id);
        if (node === null || node.streamPendingRanges === undefined) {
          caughtUp = false;
          continue;
        }
        node.streamPendingRanges(dead);
        if (!node.rangesCaughtUp!()) caughtUp = false;
      }
      if (!caughtUp) return void this.sim.schedule(POLL_MS, 'ring change poll', poll);
      for (const id of receivers) {
        const p = this.cluster.node(id)!.rangeStreamProgress!();
        if (p !== null) {
          this.streamed.records += p.records;
          this.streamed.bytes += p.bytes;
        }
      }
      this.note(`streams done (${this.streamed.records} records, ${this.streamed.bytes} bytes)`);
      finish();
      this.done = true;
    };
    this.sim.schedule(this.ringDelayMs, 'ring change streams', poll);
  }
}
