// STRONG reads and writes: single-key linearizable registers over the home
// replicas, after Attiya, Bar-Noy and Dolev's multi-writer register (ABD).
//
// - Only the key's N home replicas take part (never fallbacks or hints); a
//   request needs a strict majority Q of them, and fails (never answers
//   stale) without it.
// - A replica that may have lost writes it acknowledged (bit rot in its log,
//   a quarantined table: replica_completeness.ts) says so in its read reply;
//   its version is merged but it is not one of the Q: a quorum of it could
//   miss a completed write. Its write acknowledgements still count: what it
//   acknowledges now it holds, and reads never rest on it.
// - A write first reads the versions of a quorum, picks an HLC above all of
//   them (moving the local HLC there), then writes to a quorum. The phase-1
//   read writes nothing, so a failure there is definite; after it, a failure
//   or timeout is not.
// - A read reads a quorum; if the replicas that answered do not all hold the
//   merge of their answers, it writes that merge back until a quorum holds
//   it, and only then answers, so a later read cannot see an older version.
//
// While ranges move (topology.ts) the quorum is still taken among the N
// current replicas, and everything written (writes and read write-backs)
// also goes to the key's pending replicas, and a version counts as written
// once enough of the current and pending replicas hold it that it is on a
// quorum of the current replicas and on a quorum of the replicas after the
// move (moving_quorum.ts; a read that finds fewer holders writes it back
// first). Data written before the move reaches the new replica
// by streaming from the one it replaces (core/ring_change/), so quorums
// keep intersecting across the move.
//
// In siblings keyspaces the write supersedes every version phase 1 saw (a
// linearizable register has no concurrent writes to keep) and, as ever in
// that mode, is coordinated by a home replica that makes it durable locally
// before sending it on.

import { keyToken } from '../ring/key_hash.ts';
import { movingStrongQuorum } from './moving_quorum.ts';
import { CorruptionError } from '../storage/errors.ts';
import { join } from '../versioning/dotted_version_vector.ts';
import { type Hlc, MAX_LOGICAL, compareHlc } from '../versioning/hlc.ts';
import { type VersionedValue, writeSiblings } from '../versioning/versioned_value.ts';
import { quorumOf } from './consistency.ts';
import type { CoordinatorDeps, Deadline, WriteIntent } from './coordinator_deps.ts';
import { GetCore } from './get_core.ts';
import type { KeyspaceConfig } from './keyspace.ts';
import { PutCore } from './put_core.ts';
import { RequestRun } from './request_run.ts';
import { type GetResponse, type WriteResponse, errorInfo } from './requests.ts';
import { mergeAll } from './version_set.ts';
import { newestHlc, readResponse, writeFor } from './version_builders.ts';

export class StrongCoordinator {
  constructor(
    private readonly d: CoordinatorDeps,
    /** Relays a siblings-mode write to a home replica (coordinator.ts). */
    private readonly forward: (intent: WriteIntent, done: (res: WriteResponse) => void) => void,
  ) {}

  read(ks: KeyspaceConfig, key: Uint8Array, deadline: Deadline, done: (res: GetResponse) => void): void {
    const topology = this.d.topology();
    const token = keyToken(key);
    const home = topology.readReplicas(token, ks.replicationFactor);
    const moving = topology.writeReplicas(token, ks.replicationFactor);
    const pending = moving.pending;
    const q = quorumOf(home.length);
    const holders = movingStrongQuorum(moving);
    const unavailable = this.checkReachable(home, q, 'read');
    if (unavailable !== null) return done({ ok: false, error: unavailable });
    const core = new GetCore(home, q);
    const run = new RequestRun<GetResponse>(this.d.env.timers, deadline, done, () => {
      core.timeout();
      const outcome = core.outcome();
      return { ok: false, error: outcome !== null && !outcome.ok ? outcome.error : errorInfo('timeout', 'STRONG read timed out', false) };
    });
    const step = (): void => {
      if (run.finished) return;
      const outcome = core.outcome();
      if (outcome === null) return;
      if (!outcome.ok) {
        this.d.mark('strong read failed');
        return run.finish({ ok: false, error: outcome.error });
      }
      const plan = core.repairPlan();
      // As many holders among current and pending replicas as a write needs
      // (moving_quorum.ts); a key absent from a quorum has nothing to keep.
      const needed = holders - plan.current.length;
      if (needed <= 0 || (plan.merged === null && plan.current.length >= q)) {
        this.d.mark('strong read ok');
        return run.finish(readResponse(ks, plan.merged, this.d.env.clock.wallMs()));
      }
      this.writeBack(run, ks, key, plan.merged!, [...home.filter((n) => !plan.current.includes(n)), ...pending], needed);
    };
    for (const node of home) {
      this.d.rpc.call(node, { t: 'read', ks: ks.name, key, hintFor: null }, deadline.remainingMs(), (reply) => {
        if (reply === null) return;
        if (reply.t === 'read_ok') core.reply(node, reply.value, reply.complete);
        else if (reply.t === 'fail') core.fail(node, reply.code);
        step();
      });
    }
  }

  private writeBack(run: RequestRun<GetResponse>, ks: KeyspaceConfig, key: Uint8Array, merged: VersionedValue, targets: string[], required: number): void {
    this.d.mark('strong write-back');
    const core = new PutCore(targets, required, 'STRONG read write-back');
    run.whenDeadline(() => {
      core.timeout();
      const outcome = core.outcome();
      return { ok: false, error: outcome !== null && !outcome.ok ? outcome.error : errorInfo('timeout', 'STRONG read timed out', false) };
    });
    for (const node of targets) {
      this.d.rpc.call(node, { t: 'write', ks: ks.name, key, value: merged, origin: 'repair', hintFor: null }, run.deadline.remainingMs(), (reply) => {
        if (reply === null || run.finished) return;
        if (reply.t === 'write_ok') core.ack(node);
        else if (reply.t === 'fail') core.refuse(node, reply.code, reply.message, reply.definite);
        const outcome = core.outcome();
        if (outcome === null) return;
        if (outcome.ok) {
          this.d.mark('strong read ok');
          run.finish(readResponse(ks, merged, this.d.env.clock.wallMs()));
        } else run.finish({ ok: false, error: { ...outcome.error, definite: false } });
      });
    }
  }

  /** The client's context plays no part: a STRONG write supersedes everything phase 1 saw. */
  write(intent: WriteIntent, done: (res: WriteResponse) => void): void {
    const { ks } = intent;
    const self = this.d.env.nodeId;
    const topology = this.d.topology();
    const token = keyToken(intent.key);
    const home = topology.readReplicas(token, ks.replicationFactor);
    const moving = topology.writeReplicas(token, ks.replicationFactor);
    const pending = moving.pending;
    const q = quorumOf(home.length);
    if (ks.conflictMode === 'siblings' && !home.includes(self)) return this.forward(intent, done);
    const unavailable = this.checkReachable(home, q, 'write');
    if (unavailable !== null) return done({ ok: false, error: { ...unavailable, definite: true } });
    const phase1 = new GetCore(home, q);
    const run = new RequestRun<WriteResponse>(this.d.env.timers, intent.deadline, done, () => {
      phase1.timeout();
      const outcome = phase1.outcome();
      const error = outcome !== null && !outcome.ok ? outcome.error : errorInfo('timeout', 'STRONG write timed out reading versions', true);
      return { ok: false, error: { ...error, definite: true } };
    });
    let learned = false;
    const step = (): void => {
      if (run.finished || learned) return;
      const outcome = phase1.outcome();
      if (outcome === null) return;
      if (!outcome.ok) {
        this.d.mark('strong write failed');
        return run.finish({ ok: false, error: { ...outcome.error, definite: true } });
      }
      learned = true;
      this.writePhase(run, intent, home, pending, q, movingStrongQuorum(moving), outcome.merged);
    };
    for (const node of home) {
      this.d.rpc.call(node, { t: 'read', ks: ks.name, key: intent.key, hintFor: null }, intent.deadline.remainingMs(), (reply) => {
        if (reply === null) return;
        if (reply.t === 'read_ok') phase1.reply(node, reply.value, reply.complete);
        else if (reply.t === 'fail') phase1.fail(node, reply.code);
        step();
      });
    }
  }

  private writePhase(run: RequestRun<WriteResponse>, intent: WriteIntent, home: string[], pending: string[], q: number, holders: number, seen: VersionedValue | null): void {
    const { ks } = intent;
    const self = this.d.env.nodeId;
    let base = seen;
    if (ks.conflictMode === 'siblings') {
      try {
        base = mergeAll([seen, this.d.replicas.latest(ks.name, intent.key)]);
      } catch (err) {
        const message = err instanceof CorruptionError ? `local record unreadable: ${err.message}` : `versions disagree: ${(err as Error).message}`;
        return run.finish({ ok: false, error: errorInfo(err instanceof CorruptionError ? 'corruption' : 'internal', message, true) });
      }
    }
    run.whenDeadline(() => ({ ok: false, error: errorInfo('timeout', 'STRONG write timed out before it was sent', true) }));
    this.stampAbove(newestHlc(base), (err, ts) => {
      if (run.finished) return;
      if (err !== null) return run.finish({ ok: false, error: errorInfo('internal', `clock lease not durable: ${err.message}`, true) });
      const write = writeFor(intent, ts!, this.d.env.clock.wallMs());
      if (ks.conflictMode === 'lww') return this.replicateStrong(run, intent, [...home, ...pending], holders, { mode: 'lww', write }, false);
      const next = writeSiblings(base, base !== null && base.mode === 'siblings' ? join(base.dvv) : [], write, self);
      run.whenDeadline(() => ({ ok: false, error: errorInfo('timeout', 'STRONG write: local write did not finish in time', false) }));
      this.d.replicas.apply(ks.name, intent.key, next, (applyErr, merged) => {
        if (run.finished) return;
        if (applyErr !== null) return run.finish({ ok: false, error: errorInfo('internal', `local write failed: ${applyErr.message}`, true) });
        this.replicateStrong(run, intent, [...home, ...pending], holders, merged!, true);
      });
    });
  }

  private replicateStrong(run: RequestRun<WriteResponse>, intent: WriteIntent, home: string[], q: number, value: VersionedValue, selfAcked: boolean): void {
    const self = this.d.env.nodeId;
    const targets = selfAcked ? home.filter((n) => n !== self) : home;
    const core = new PutCore(selfAcked ? [self, ...targets] : targets, q, 'STRONG write');
    if (selfAcked) core.ack(self);
    const check = (): void => {
      if (run.finished) return;
      const outcome = core.outcome();
      if (outcome === null) return;
      this.d.mark(outcome.ok ? 'strong write ok' : 'strong write failed');
      run.finish(outcome);
    };
    run.whenDeadline(() => {
      core.timeout();
      return core.outcome()!;
    });
    check();
    for (const node of targets) {
      this.d.rpc.call(node, { t: 'write', ks: intent.ks.name, key: intent.key, value, origin: 'strong', hintFor: null }, run.deadline.remainingMs(), (reply) => {
        if (reply === null) return;
        if (reply.t === 'write_ok') core.ack(node);
        else if (reply.t === 'fail') core.refuse(node, reply.code, reply.message, reply.definite);
        check();
      });
    }
  }

  /** A timestamp above `floor` (and above everything this node issued). */
  private stampAbove(floor: Hlc | null, cb: (err: Error | null, ts?: Hlc) => void): void {
    if (floor !== null) this.d.lease.hlc.update(floor);
    this.d.lease.stamp((err, ts) => {
      if (err !== null || floor === null || compareHlc(ts!, floor) > 0) return cb(err, ts);
      // floor is further ahead than the skew bound lets the clock follow: step just above it.
      this.d.mark('strong write above a far-future version');
      const bumped = floor.logical < MAX_LOGICAL ? { wallMs: floor.wallMs, logical: floor.logical + 1 } : { wallMs: floor.wallMs + 1, logical: 0 };
      cb(null, { ...bumped, nodeId: this.d.env.nodeId });
    });
  }

  private checkReachable(home: string[], q: number, what: string) {
    const up = home.filter((n) => this.d.liveness.isUp(n)).length;
    if (up >= q) return null;
    this.d.mark(`strong ${what} unavailable`);
    return errorInfo('unavailable', `STRONG ${what} needs ${q} of ${home.length} home replicas, ${up} reachable`, false, { replied: 0, required: q });
  }
}

