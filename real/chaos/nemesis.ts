// The nemesis of a chaos run: two loops side by side until the duration ends,
// one for processes (kill -9 one or two random nodes, keep them down a
// while, restart them on their data), one for the network (isolate one node,
// split the nodes into two halves, unplug one node, each for a while, then
// heal). Then `healAll` restarts whatever is down and heals the network.
// Every fault is logged with its time so a failing history can be read
// against it.

import { assert } from '../../io/assert.ts';
import type { ChaosCluster } from './chaos_cluster.ts';
import type { ChaosNetwork } from './chaos_network.ts';

export interface NemesisOptions {
  /** Uniform [0, 1). */
  random: () => number;
  /** ms since the run began. */
  now: () => number;
  /** How long a fault lasts, and the quiet gap between faults of one loop: [min, max] ms. */
  faultMs: [number, number];
  gapMs: [number, number];
  /** At most this many nodes killed at once. */
  maxKilled: number;
  report: (line: string) => void;
}

export interface FaultRecord {
  at: number;
  what: string;
}

export class Nemesis {
  readonly log: FaultRecord[] = [];
  readonly counts = new Map<string, number>();
  private stopAt = 0;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly network: ChaosNetwork,
    private readonly o: NemesisOptions,
  ) {
    assert(o.maxKilled >= 1, 'maxKilled >= 1');
  }

  /** Runs both loops for `durationMs`; resolves when both have undone their last fault. */
  async run(durationMs: number): Promise<void> {
    this.stopAt = this.o.now() + durationMs;
    await Promise.all([this.processLoop(), this.networkLoop()]);
  }

  /** Ends the loops early (a failed run): no new fault starts. */
  stop(): void {
    this.stopAt = 0;
  }

  /** Restarts every node that is down and heals the network. */
  async healAll(): Promise<void> {
    await this.network.heal();
    this.record('heal', 'heal all');
    for (const id of this.cluster.ids) if (!this.cluster.isUp(id)) await this.cluster.restart(id);
  }

  private record(kind: string, what: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const entry = { at: Math.round(this.o.now()), what };
    this.log.push(entry);
    this.o.report(`  t=${(entry.at / 1000).toFixed(1)}s nemesis: ${what}`);
  }

  private between([min, max]: [number, number]): number {
    return min + this.o.random() * (max - min);
  }

  private shuffled(ids: readonly string[]): string[] {
    const out = [...ids];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.o.random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Sleeps `ms`, or less when the run ends first; true when time is left. */
  private async sleep(ms: number): Promise<boolean> {
    const left = this.stopAt - this.o.now();
    if (left <= 0) return false;
    await new Promise((r) => setTimeout(r, Math.min(ms, left)));
    return this.o.now() < this.stopAt;
  }

  private async processLoop(): Promise<void> {
    while (await this.sleep(this.between(this.o.gapMs))) {
      const count = this.o.maxKilled >= 2 && this.o.random() < 0.3 ? 2 : 1;
      const victims = this.shuffled(this.cluster.upIds()).slice(0, count);
      for (const id of victims) await this.cluster.crash(id);
      this.record('kill', `kill -9 ${victims.join(', ')}`);
      // Down for a while even when the run ends now: a restart after a kill is part of the fault.
      await new Promise((r) => setTimeout(r, this.between(this.o.faultMs)));
      for (const id of victims) {
        await this.cluster.restart(id);
        this.record('restart', `restart ${id}`);
      }
    }
  }

  private async networkLoop(): Promise<void> {
    const ids = this.network.nodeIds;
    while (await this.sleep(this.between(this.o.gapMs))) {
      const r = this.o.random();
      if (r < 0.4) {
        const id = this.shuffled(ids)[0]!;
        await this.network.partition([[id], ids.filter((x) => x !== id)]);
        this.record('isolate', `isolate ${id} from its peers`);
      } else if (r < 0.8) {
        const order = this.shuffled(ids);
        const cut = Math.floor(ids.length / 2);
        const halves = [order.slice(0, cut).sort(), order.slice(cut).sort()];
        await this.network.partition(halves);
        this.record('split', `split ${halves.map((h) => h.join(',')).join(' | ')}`);
      } else {
        const id = this.shuffled(ids)[0]!;
        await this.network.unplug(id);
        this.record('unplug', `unplug ${id}${this.network.mode === 'netns' ? ' (link down, clients cut too)' : ' (all its peer links cut)'}`);
      }
      await new Promise((r) => setTimeout(r, this.between(this.o.faultMs)));
      await this.network.heal();
      this.record('heal', 'heal network');
    }
  }
}
