// The phase driver against a model of gossip: a shared table of phases and
// progress that every node reads at once, except nodes held "behind" (they
// keep their old topology and report it) and nodes down (not live, silent).
import { describe, expect, it } from 'vitest';
import { Topology, type MemberPhase } from '../ring/topology.ts';
import { ManualTimers } from './ring_change.testkit.ts';
import type { RingProgress } from './ring_progress_state.ts';
import { RingPhaseDriver } from './ring_phase_driver.ts';

const SETTLE = 1000;
const STREAM_MS = 700;

class World {
  readonly timers = new ManualTimers();
  readonly phases = new Map<string, { phase: MemberPhase; tokens: bigint[] }>();
  readonly removing = new Map<string, string>(); // remover -> dead
  readonly removed = new Set<string>();
  readonly progress = new Map<string, RingProgress>();
  readonly behind = new Map<string, Topology>();
  readonly down = new Set<string>();
  readonly drivers = new Map<string, RingPhaseDriver>();
  readonly streamStarted = new Map<string, { version: number; at: number }>();
  /** (time, node, phase) of every announcement. */
  readonly announced: { at: number; id: string; phase: MemberPhase }[] = [];
  /** When every live node first reported each version. */
  readonly agreedAt = new Map<number, number>();
  /** Announcements still to fail (a meta write that could not be made durable). */
  failAnnounces = 0;

  constructor(ids: string[]) {
    ids.forEach((id, i) => this.phases.set(id, { phase: 'normal', tokens: [BigInt(i * 1000 + 1), BigInt(i * 1000 + 500)] }));
  }

  current(): Topology {
    const dead = new Set(this.removing.values());
    return Topology.of(
      [...this.phases].map(([id, m]) => ({
        id,
        tokens: m.tokens,
        phase: this.removed.has(id) ? 'removed' : dead.has(id) && m.phase === 'normal' ? 'leaving' : m.phase,
      })),
    );
  }

  topologyOf(id: string): Topology {
    return this.behind.get(id) ?? this.current();
  }

  add(id: string): RingPhaseDriver {
    const d = new RingPhaseDriver({
      self: id,
      timers: this.timers,
      settleMs: SETTLE,
      pollMs: 50,
      monotonicMs: () => this.timers.now,
      topology: () => this.topologyOf(id),
      livePeers: () => [...this.drivers.keys()].filter((p) => p !== id && !this.down.has(p)),
      progressOf: (p) => this.progress.get(p) ?? null,
      publish: (p) => {
        this.progress.set(id, p);
        this.noteAgreement();
      },
      removing: () => [...new Set(this.removing.values())],
      announce: (phase, tokens, _replaces, cb) => {
        if (this.failAnnounces > 0) {
          this.failAnnounces--;
          return cb(false);
        }
        this.announced.push({ at: this.timers.now, id, phase });
        this.phases.set(id, { phase, tokens: [...tokens] });
        cb(true);
      },
      setRemoving: (dead) => (dead === null ? this.removing.delete(id) : this.removing.set(id, dead)),
      removeMember: (dead) => {
        if (!this.down.has(dead) && this.drivers.has(dead)) return false;
        this.removed.add(dead);
        return true;
      },
      streamPendingRanges: () => {
        const v = this.topologyOf(id).version;
        if (this.streamStarted.get(id)?.version !== v) this.streamStarted.set(id, { version: v, at: this.timers.now });
      },
      caughtUp: () => {
        const s = this.streamStarted.get(id);
        return s !== undefined && s.version === this.topologyOf(id).version && this.timers.now - s.at >= STREAM_MS;
      },
      mark: () => {},
    });
    this.drivers.set(id, d);
    d.start();
    return d;
  }

  private noteAgreement(): void {
    const live = [...this.drivers.keys()].filter((p) => !this.down.has(p));
    const v = this.progress.get(live[0]!)?.topologyVersion;
    if (v !== undefined && live.every((p) => this.progress.get(p)?.topologyVersion === v) && !this.agreedAt.has(v)) this.agreedAt.set(v, this.timers.now);
  }

  runFor(ms: number): void {
    const until = this.timers.now + ms;
    this.timers.setTimer(ms, () => {});
    while (this.timers.now < until) this.timers.run(1);
  }
}

function cluster(n: number): World {
  const w = new World(Array.from({ length: n }, (_, i) => `n${i + 1}`));
  for (const id of w.phases.keys()) w.add(id);
  return w;
}

describe('ring phase driver', () => {
  it('join: joining, ranges pulled after the settle delay, then normal once every live member agreed', () => {
    const w = cluster(4);
    w.phases.set('n5', { phase: 'joining', tokens: [] }); // not placed until it announces
    w.phases.delete('n5');
    const d = w.add('n5');
    let done: Error | null | undefined;
    d.join(() => [250n, 2250n], null, false, (err) => (done = err));
    w.runFor(20_000);
    expect(done).toBeNull();
    expect(w.announced.map((a) => `${a.id}:${a.phase}`)).toEqual(['n5:joining', 'n5:normal']);
    const joining = w.announced[0]!;
    const normal = w.announced[1]!;
    // Streaming started only once the joining topology had settled everywhere.
    const during = w.streamStarted.get('n5')!;
    const agreed = w.agreedAt.get(during.version);
    expect(agreed).toBeDefined();
    expect(during.at).toBeGreaterThanOrEqual(agreed! + SETTLE);
    expect(normal.at).toBeGreaterThanOrEqual(during.at + STREAM_MS);
    expect(joining.at).toBeLessThan(during.at);
    expect(w.current().phaseOf('n5')).toBe('normal');
    expect(d.operation).toBeNull();
  });

  it('a member still on the old topology holds every step back until it catches up', () => {
    const w = cluster(4);
    w.behind.set('n2', w.current());
    const d = w.add('n5');
    d.join(() => [250n], null, false, () => {});
    w.runFor(10_000);
    expect(w.announced.map((a) => a.phase)).toEqual(['joining']);
    expect(w.streamStarted.has('n5')).toBe(false);
    expect(d.waitingFor).toBe('the ranges this node gains');
    w.behind.delete('n2');
    w.runFor(10_000);
    expect(w.announced.map((a) => a.phase)).toEqual(['joining', 'normal']);
  });

  it("decommission: 'left' only after every receiver, a down one included, reports caught up", () => {
    const w = cluster(5);
    w.down.add('n4'); // down: not live, so it does not hold the settle rule, but it must still receive its ranges
    w.drivers.get('n4')!.stop();
    let done: Error | null | undefined;
    w.drivers.get('n1')!.decommission(false, (err) => (done = err));
    w.runFor(20_000);
    expect(w.announced.map((a) => `${a.id}:${a.phase}`)).toEqual(['n1:leaving']);
    expect(done).toBeUndefined();
    w.down.delete('n4');
    w.add('n4');
    w.runFor(20_000);
    expect(w.announced.map((a) => `${a.id}:${a.phase}`)).toEqual(['n1:leaving', 'n1:left']);
    expect(done).toBeNull();
    const left = w.announced[1]!.at;
    for (const id of ['n2', 'n3', 'n4', 'n5']) expect(w.streamStarted.get(id)!.at + STREAM_MS).toBeLessThanOrEqual(left);
  });

  it('remove: the dead member leaves the read ring only after the survivors re-replicated; refusals', () => {
    const w = cluster(5);
    w.down.add('n3');
    w.drivers.get('n3')!.stop();
    const op = w.drivers.get('n1')!;
    const errors: string[] = [];
    op.removeNode('n1', (err) => errors.push(err!.message));
    op.removeNode('n9', (err) => errors.push(err!.message));
    w.down.delete('n3');
    op.removeNode('n3', (err) => errors.push(err!.message));
    w.down.add('n3');
    expect(errors).toEqual(['a node does not remove itself: decommission it', 'n9 is not a member', 'n3 is believed up: decommission it instead']);
    let done: Error | null | undefined;
    op.removeNode('n3', (err) => (done = err));
    expect(w.current().phaseOf('n3')).toBe('leaving');
    w.runFor(30_000);
    expect(done).toBeNull();
    expect(w.current().phaseOf('n3')).toBe('removed');
    for (const id of ['n1', 'n2', 'n4', 'n5']) expect(w.streamStarted.has(id)).toBe(true);
    expect(w.current().moving).toBe(false);
  });

  it('an announcement that could not be persisted is tried again', () => {
    const w = cluster(4);
    w.failAnnounces = 3;
    let done: Error | null | undefined;
    w.drivers.get('n2')!.decommission(false, (err) => (done = err));
    w.runFor(30_000);
    expect(w.failAnnounces).toBe(0);
    expect(w.announced.map((a) => `${a.id}:${a.phase}`)).toEqual(['n2:leaving', 'n2:left']);
    expect(done).toBeNull();
  });

  it('one operation at a time', () => {
    const w = cluster(3);
    const d = w.drivers.get('n1')!;
    d.decommission(false, () => {});
    let err: Error | null = null;
    d.decommission(false, (e) => (err = e));
    expect(err).not.toBeNull();
  });
});
