// A node's own ring changes, carried by gossip: it joins, is decommissioned,
// or (from any live node, on an operator's word) removes a dead member. Each
// operation is a short list of steps; a step waits for its condition, acts,
// and hands over to the next. Every node also runs the receiving side: when
// its topology moves ranges to it, it pulls them (ring_change_service.ts)
// and gossips its progress (ring_progress_state.ts).
//
//   join          announce 'joining' + tokens -> settled, ranges received -> 'normal' -> settled
//   replace       as join, with the dead member's tokens, naming it 'removing' (peers see it
//                 'leaving'); after 'normal' has settled the dead member is gossiped 'removed'
//   decommission  announce 'leaving' -> settled, every receiver caught up -> 'left' -> settled
//   remove        name the dead member 'removing' -> settled, every receiver caught up ->
//                 gossip it 'removed' -> settled
//
// The settle rule, for every phase change and before any receiver pulls: a
// topology is settled on a node once every member its gossip believes up
// reports (in its ring progress) that it uses the same topology version, and
// settleMs has passed since this node first saw that. A coordinator that
// still placed a request by the older topology started it before it switched,
// and a request ends (answer or timeout) within the request timeout, so with
// settleMs above the request timeout no write placed by the old topology is
// still landing when ranges are copied or a phase moves on. A member down
// meanwhile coordinates nothing; when it is back it reports the old version
// until gossip has told it, which holds the change back until it has.
//
// A receiver counts as caught up for a topology once it reports that
// version with its flag set; the node that leaves (or the remover) waits for
// every placement member (normal or joining, down ones included: their
// ranges must arrive too) before its member is dropped from the read ring.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import type { Timers } from '../../io/timers.ts';
import type { MemberPhase, Topology } from '../ring/topology.ts';
import type { RingProgress } from './ring_progress_state.ts';

export interface RingPhaseDeps {
  readonly self: NodeId;
  readonly timers: Timers;
  readonly settleMs: number;
  readonly pollMs: number;
  monotonicMs(): number;
  topology(): Topology;
  /** Members gossip believes up, this node excluded. */
  livePeers(): NodeId[];
  /** What a peer gossips of its ring progress; null if nothing (yet). */
  progressOf(id: NodeId): RingProgress | null;
  /** Gossips this node's own progress. */
  publish(progress: RingProgress): void;
  /** Dead members some node is removing or replacing (excluded as stream sources). */
  removing(): readonly NodeId[];
  /** Persists, then gossips, this node's phase and tokens (and the member it replaces); false if it could not persist. */
  announce(phase: MemberPhase, tokens: readonly bigint[], replaces: NodeId | null, cb: (ok: boolean) => void): void;
  /** Names (or, with null, stops naming) the dead member this node removes. */
  setRemoving(dead: NodeId | null): void;
  /** Gossips a dead member 'removed'; false if gossip refuses (unknown, or believed up). */
  removeMember(dead: NodeId): boolean;
  streamPendingRanges(dead: readonly NodeId[]): void;
  caughtUp(): boolean;
  mark(what: string): void;
}

interface Step {
  readonly what: string;
  ready(): boolean;
  /** done(false): the step is tried again at the next poll. */
  act(done: (ok?: boolean) => void): void;
}

export type RingOperationKind = 'join' | 'decommission' | 'remove';

export class RingPhaseDriver {
  private steps: Step[] = [];
  private acting = false;
  private onDone: ((err: Error | null) => void) | null = null;
  private kind: RingOperationKind | null = null;
  private agreed: { version: number; at: number } | null = null;
  private published: RingProgress | null = null;
  private timer: ReturnType<Timers['setTimer']> | null = null;
  private stopped = false;

  constructor(private readonly d: RingPhaseDeps) {
    assert(d.settleMs >= 0 && d.pollMs > 0, `settle ${d.settleMs} ms, poll ${d.pollMs} ms`);
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.d.timers.cancelTimer(this.timer);
    this.timer = null;
  }

  /** The operation under way, if any. */
  get operation(): RingOperationKind | null {
    return this.kind;
  }

  /** What the operation under way waits for (for operators); null when idle. */
  get waitingFor(): string | null {
    return this.steps[0]?.what ?? null;
  }

  /**
   * Joins: `pickTokens` is asked each poll until it returns the tokens (it
   * returns null while the node has not learned the ring). `resume` skips the
   * announcement of a join a restart interrupted.
   */
  join(pickTokens: () => readonly bigint[] | null, replaces: NodeId | null, resume: boolean, cb: (err: Error | null) => void): void {
    let tokens: readonly bigint[] = [];
    const steps: Step[] = [];
    if (!resume) {
      steps.push({
        what: 'the ring from the seeds',
        ready: () => {
          const picked = pickTokens();
          if (picked === null) return false;
          tokens = picked;
          return true;
        },
        act: (done) => {
          assert(tokens.length > 0, 'joining without tokens');
          this.d.mark('ring: announced joining');
          this.d.announce('joining', tokens, replaces, done);
        },
      });
    }
    steps.push(
      {
        what: 'the ranges this node gains',
        ready: () => this.phaseIs(this.d.self, 'joining') && this.settled() && this.d.caughtUp(),
        act: (done) => {
          this.d.mark('ring: announced normal');
          this.d.announce('normal', this.ownTokens(), replaces, done);
        },
      },
      {
        what: "every live member to see this node 'normal'",
        ready: () => this.phaseIs(this.d.self, 'normal') && this.settled(),
        act: (done) => {
          if (replaces !== null) this.dropDead(replaces);
          done();
        },
      },
    );
    this.begin('join', steps, cb);
  }

  /** Leaves the ring: 'leaving' until every new owner has its ranges, then 'left'. */
  decommission(resume: boolean, cb: (err: Error | null) => void): void {
    const steps: Step[] = [];
    if (!resume) {
      steps.push({
        what: 'nothing',
        ready: () => true,
        act: (done) => {
          this.d.mark('ring: announced leaving');
          this.d.announce('leaving', this.ownTokens(), null, done);
        },
      });
    }
    steps.push(
      {
        what: 'every new owner to receive the ranges',
        ready: () => this.phaseIs(this.d.self, 'leaving') && this.settled() && this.receiversCaughtUp([this.d.self]),
        act: (done) => {
          this.d.mark('ring: announced left');
          this.d.announce('left', this.ownTokens(), null, done);
        },
      },
      { what: "every live member to see this node 'left'", ready: () => this.phaseIs(this.d.self, 'left') && this.settled(), act: (done) => done() },
    );
    this.begin('decommission', steps, cb);
  }

  /** Removes a dead member: the survivors re-replicate its ranges, then it is gossiped 'removed'. */
  removeNode(dead: NodeId, cb: (err: Error | null) => void): void {
    const phase = this.d.topology().phaseOf(dead);
    if (dead === this.d.self) return cb(new Error('a node does not remove itself: decommission it'));
    if (phase === undefined) return cb(new Error(`${dead} is not a member`));
    if (phase !== 'normal' && phase !== 'leaving') return cb(new Error(`${dead} is ${phase}`));
    if (this.d.livePeers().includes(dead)) return cb(new Error(`${dead} is believed up: decommission it instead`));
    this.begin(
      'remove',
      [
        {
          what: 'nothing',
          ready: () => true,
          act: (done) => {
            this.d.mark('ring: removing a dead member');
            this.d.setRemoving(dead);
            done();
          },
        },
        {
          what: 'the survivors to re-replicate the ranges',
          ready: () => this.phaseIs(dead, 'leaving') && this.settled() && this.receiversCaughtUp([dead]),
          act: (done) => {
            this.dropDead(dead);
            done();
          },
        },
        { what: `every live member to see ${dead} removed`, ready: () => this.phaseIs(dead, 'removed') && this.settled(), act: (done) => done() },
      ],
      cb,
    );
  }

  private begin(kind: RingOperationKind, steps: Step[], cb: (err: Error | null) => void): void {
    if (this.kind !== null) return cb(new Error(`a ${this.kind} is already under way on ${this.d.self}`));
    this.kind = kind;
    this.steps = steps;
    this.onDone = cb;
    this.tick();
  }

  private dropDead(dead: NodeId): void {
    if (!this.d.removeMember(dead)) this.d.mark('ring: removal of a dead member refused');
    this.d.setRemoving(null);
  }

  private ownTokens(): readonly bigint[] {
    const me = this.d.topology().members().find((m) => m.id === this.d.self);
    assert(me !== undefined && me.tokens.length > 0, `${this.d.self} has no tokens in its topology`);
    return me.tokens;
  }

  private phaseIs(id: NodeId, phase: MemberPhase): boolean {
    return this.d.topology().phaseOf(id) === phase;
  }

  /** The settle rule (top of file) holds for the current topology. */
  settled(): boolean {
    const t = this.d.topology();
    const agree = this.d.livePeers().every((id) => this.d.progressOf(id)?.topologyVersion === t.version);
    if (!agree) {
      this.agreed = null;
      return false;
    }
    const now = this.d.monotonicMs();
    if (this.agreed?.version !== t.version) this.agreed = { version: t.version, at: now };
    return now - this.agreed.at >= this.d.settleMs;
  }

  /** Every placement member but `except` (and the dead) reports caught up under this node's topology. */
  private receiversCaughtUp(except: readonly NodeId[]): boolean {
    const t = this.d.topology();
    const dead = new Set(this.d.removing());
    for (const m of t.members()) {
      if ((m.phase !== 'normal' && m.phase !== 'joining') || except.includes(m.id) || dead.has(m.id)) continue;
      const p = m.id === this.d.self ? { topologyVersion: t.version, caughtUp: this.d.caughtUp() } : this.d.progressOf(m.id);
      if (p === null || p.topologyVersion !== t.version || !p.caughtUp) return false;
    }
    return true;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.d.timers.setTimer(this.d.pollMs, () => {
      this.timer = null;
      this.tick();
      this.schedule();
    });
  }

  private tick(): void {
    if (this.stopped) return;
    const t = this.d.topology();
    // The receiving side, on every node.
    if (t.moving && this.settled()) this.d.streamPendingRanges(this.d.removing());
    const progress = { topologyVersion: t.version, caughtUp: !t.moving || this.d.caughtUp() };
    if (this.published?.topologyVersion !== progress.topologyVersion || this.published.caughtUp !== progress.caughtUp) {
      this.published = progress;
      this.d.publish(progress);
    }
    // This node's own operation.
    if (this.acting) return;
    const step = this.steps[0];
    if (step === undefined || !step.ready()) return;
    this.acting = true;
    step.act((ok = true) => {
      this.acting = false;
      if (!ok) return;
      this.steps.shift();
      if (this.steps.length > 0) return;
      const cb = this.onDone!;
      this.kind = null;
      this.onDone = null;
      cb(null);
    });
  }
}
