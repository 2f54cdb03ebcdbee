// The coordinator of gets, puts and deletes at the ordinary (sloppy) levels.
// Any node coordinates: it sends to the first N nodes of the key's extended
// preference list (home replicas the liveness view believes up, then
// fallbacks standing in for the down ones, each fallback told whose write it
// holds), answers after R replies or W acknowledgements, and fails at the
// deadline saying how many replicas answered.
//
// lww keyspaces: the coordinator stamps the write with its HLC (held below
// the persisted lease, hlc_lease.ts) and sends the same version to all.
//
// siblings keyspaces: a write gets a dot from the node that coordinates it,
// and that node must know every dot it ever gave the key, so the coordinator
// is a home replica (riak_kv's rule): any other node forwards the write to
// the first home replica that is up. The home replica builds the new version
// from its own newest record and the client's context, makes it durable
// locally first (so a crash cannot lose a dot that other replicas hold and
// mint it again), and then sends it to the others; its own write counts
// towards W.
//
// Reads merge what they get; once all replicas answered (or the deadline
// passed) the ones that fell short get the merge (read_repair.ts).
// STRONG requests go to strong.ts.

import { assert } from '../../io/assert.ts';
import type { PreferenceEntry } from '../ring/ring.ts';
import type { WriteReplicas } from '../ring/topology.ts';
import { movingWriteQuorum } from './moving_quorum.ts';
import { keyToken } from '../ring/key_hash.ts';
import { CorruptionError } from '../storage/errors.ts';
import { type CausalContext, EMPTY_CONTEXT, siblingCount, siblingLimitVerdict } from '../versioning/dotted_version_vector.ts';
import { decodeContext } from '../versioning/dvv_codec.ts';
import { InvalidContextError } from '../versioning/errors.ts';
import type { Hlc } from '../versioning/hlc.ts';
import { type VersionedValue, writeSiblings } from '../versioning/versioned_value.ts';
import { resolveRequirement } from './consistency.ts';
import { type CoordinatorDeps, Deadline, type WriteIntent } from './coordinator_deps.ts';
import { GetCore } from './get_core.ts';
import type { ForwardedWrite, WriteOrigin } from './messages.ts';
import { PutCore } from './put_core.ts';
import { sendReadRepair } from './read_repair.ts';
import { checkKeyspace, contextProblem, isErrorInfo, keyProblem, ttlFor, valueProblem } from './request_validation.ts';
import { RequestRun, once } from './request_run.ts';
import { type DeleteRequest, type ErrorInfo, type GetRequest, type GetResponse, type PutRequest, type WriteResponse, errorInfo } from './requests.ts';
import { StrongCoordinator } from './strong.ts';
import { newestHlc, readResponse, writeFor } from './version_builders.ts';

/** Share of the remaining time a node gives the home replica it forwards a write to. */
const FORWARD_BUDGET_SHARE = 0.8;

export class Coordinator {
  private readonly strong: StrongCoordinator;

  constructor(private readonly d: CoordinatorDeps) {
    this.strong = new StrongCoordinator(d, (intent, done) => this.forwardToHome(intent, this.sloppyList(intent.key, intent.ks.replicationFactor), done));
  }

  get(req: GetRequest, callback: (res: GetResponse) => void): void {
    const done = once(callback, 'get');
    const ks = checkKeyspace(this.d.keyspaces, req?.keyspace);
    if (isErrorInfo(ks)) return done({ ok: false, error: ks });
    const bad = keyProblem(req.key, this.d.limits);
    if (bad !== null) return done({ ok: false, error: bad });
    const n = ks.replicationFactor;
    const requirement = resolveRequirement(req.consistency, 'r', n, ks.readConsistency);
    if (typeof requirement === 'string') return done({ ok: false, error: errorInfo('invalid', requirement, true) });
    const key = req.key.slice();
    const deadline = new Deadline(this.d.env.clock, this.d.limits.requestTimeoutMs);
    if (requirement.strong) return this.strong.read(ks, key, deadline, done);

    const entries = this.sloppyList(key, n);
    const required = requirement.count;
    if (entries.length < required) {
      this.d.mark('get unavailable');
      return done({ ok: false, error: errorInfo('unavailable', `read needs ${required} replicas, ${entries.length} of ${n} reachable`, false, { replied: 0, required }) });
    }
    const core = new GetCore(entries.map((e) => e.node), required);
    let answered = false;
    let closed = false;
    // The answer comes at the deadline at the latest; the read keeps listening until then, for read repair.
    const run = new RequestRun<GetResponse>(this.d.env.timers, deadline, done, () => {
      answered = true;
      core.timeout();
      const outcome = core.outcome();
      this.d.mark('get timed out');
      return outcome !== null && !outcome.ok ? { ok: false, error: outcome.error } : { ok: false, error: errorInfo('timeout', 'read timed out', false) };
    });
    const step = (): void => {
      if (closed) return;
      if (!answered) {
        const outcome = core.outcome();
        if (outcome !== null) {
          answered = true;
          this.d.mark(outcome.ok ? 'get ok' : 'get failed');
          if (outcome.ok) this.observe(outcome.merged);
          run.finishIfOpen(outcome.ok ? readResponse(ks, outcome.merged, this.d.env.clock.wallMs()) : { ok: false, error: outcome.error });
        }
      }
      if (!core.finished) return;
      closed = true;
      const plan = core.repairPlan();
      if (plan.merged !== null && plan.stale.length > 0) sendReadRepair(this.d, ks.name, key, plan.merged, plan.stale, entries, this.d.limits.requestTimeoutMs);
    };
    const repairTimer = this.d.env.timers.setTimer(deadline.remainingMs(), () => {
      core.timeout();
      step();
    });
    for (const e of entries) {
      this.d.rpc.call(e.node, { t: 'read', ks: ks.name, key, hintFor: e.hintFor ?? null }, deadline.remainingMs(), (reply) => {
        if (reply === null) return;
        if (reply.t === 'read_ok') core.reply(e.node, reply.value);
        else if (reply.t === 'fail') core.fail(e.node, reply.code);
        step();
        if (closed) this.d.env.timers.cancelTimer(repairTimer);
      });
    }
  }

  put(req: PutRequest, callback: (res: WriteResponse) => void): void {
    const done = once(callback, 'put');
    const intent = this.intentFor(req, req?.value, done);
    if (intent !== null) this.write(intent, done);
  }

  delete(req: DeleteRequest, callback: (res: WriteResponse) => void): void {
    const done = once(callback, 'delete');
    const intent = this.intentFor(req, null, done);
    if (intent !== null) this.write(intent, done);
  }

  /** A write another node relayed here because this node is a home replica of the key. */
  handleForward(f: ForwardedWrite, callback: (res: WriteResponse) => void): void {
    const done = once(callback, 'forwarded write');
    this.d.mark('forwarded write coordinated');
    const consistency = { ...(f.level !== null ? { level: f.level } : {}), ...(f.w !== null ? { w: f.w } : {}) };
    const req = { keyspace: f.ks, key: f.key, value: f.value ?? new Uint8Array(0), ttlMs: f.ttlMs ?? 0, context: f.context, consistency };
    const intent = this.intentFor(req, f.op === 'put' ? f.value : null, done, { forwarded: true, budgetMs: f.budgetMs });
    if (intent !== null) this.write(intent, done);
  }

  private intentFor(
    req: PutRequest | DeleteRequest,
    value: Uint8Array | null,
    done: (res: WriteResponse) => void,
    relay: { forwarded: boolean; budgetMs: number } = { forwarded: false, budgetMs: this.d.limits.requestTimeoutMs },
  ): WriteIntent | null {
    const ks = checkKeyspace(this.d.keyspaces, req?.keyspace);
    if (isErrorInfo(ks)) return fail(done, ks);
    const problem = keyProblem(req.key, this.d.limits) ?? (value !== null ? valueProblem(value, this.d.limits) : null) ?? contextProblem(req.context);
    if (problem !== null) return fail(done, problem);
    const ttl = value === null ? 0 : ttlFor((req as PutRequest).ttlMs, ks);
    if (isErrorInfo(ttl)) return fail(done, ttl);
    return {
      ks,
      key: req.key.slice(),
      value: value === null ? null : value.slice(),
      ttlMs: ttl,
      context: req.context ?? null,
      consistency: req.consistency,
      deadline: new Deadline(this.d.env.clock, relay.budgetMs),
      forwarded: relay.forwarded,
    };
  }

  private write(intent: WriteIntent, done: (res: WriteResponse) => void): void {
    const { ks } = intent;
    const requirement = resolveRequirement(intent.consistency, 'w', ks.replicationFactor, ks.writeConsistency);
    if (typeof requirement === 'string') return void fail(done, errorInfo('invalid', requirement, true));
    let context: CausalContext = EMPTY_CONTEXT;
    if (ks.conflictMode === 'siblings' && intent.context !== null) {
      try {
        context = decodeContext(intent.context);
      } catch (err) {
        if (!(err instanceof InvalidContextError)) throw err;
        return void fail(done, errorInfo('invalid', err.message, true));
      }
    }
    if (requirement.strong) return this.strong.write(intent, done);
    const token = keyToken(intent.key);
    const home = this.sloppyListAt(token, ks.replicationFactor);
    if (ks.conflictMode === 'siblings' && !home.some((e) => e.node === this.d.env.nodeId && e.role === 'primary')) {
      return this.forwardToHome(intent, home, done);
    }
    const { entries, required } = withPending(this.d.topology().writeReplicas(token, ks.replicationFactor), home, requirement.count);
    if (required > requirement.count) this.d.mark('write to pending replicas');
    if (entries.length < required) {
      this.d.mark('write unavailable');
      return void fail(done, errorInfo('unavailable', `write needs ${required} replicas, ${entries.length} of ${ks.replicationFactor} reachable`, true, { replied: 0, required }));
    }
    const run = new RequestRun<WriteResponse>(this.d.env.timers, intent.deadline, done, () => ({
      ok: false,
      error: errorInfo('timeout', 'write timed out before it was sent', true, { replied: 0, required }),
    }));
    this.d.lease.stamp((err, ts) => {
      if (run.finished) return;
      if (err !== null) return run.finish({ ok: false, error: errorInfo('internal', `clock lease not durable: ${err.message}`, true) });
      if (ks.conflictMode === 'lww') {
        const value: VersionedValue = { mode: 'lww', write: writeFor(intent, ts!, this.d.env.clock.wallMs()) };
        return this.replicate(run, intent, entries, value, required, false, 'client');
      }
      this.writeSiblingsHere(run, intent, context, ts!, entries, required);
    });
  }

  /** siblings mode, at a home replica: new version from the local record, durable here, then replicated. */
  private writeSiblingsHere(run: RequestRun<WriteResponse>, intent: WriteIntent, context: CausalContext, ts: Hlc, entries: PreferenceEntry[], required: number): void {
    const self = this.d.env.nodeId;
    let latest: VersionedValue | null;
    try {
      latest = this.d.replicas.latest(intent.ks.name, intent.key);
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      return run.finish({ ok: false, error: errorInfo('corruption', `local record unreadable: ${err.message}`, true) });
    }
    const next = writeSiblings(latest, context, writeFor(intent, ts, this.d.env.clock.wallMs()), self);
    const verdict = siblingLimitVerdict(next.mode === 'siblings' ? siblingCount(next.dvv) : 1, this.d.limits.siblingLimits);
    if (verdict === 'over') {
      this.d.mark('write refused: too many siblings');
      return run.finish({ ok: false, error: errorInfo('invalid', 'the write would leave too many siblings: read the key and write with its context', true) });
    }
    if (verdict === 'warn') this.d.mark('many siblings');
    run.whenDeadline(() => ({ ok: false, error: errorInfo('timeout', 'local write of the coordinating replica did not finish in time', false, { replied: 0, required }) }));
    this.d.replicas.apply(intent.ks.name, intent.key, next, (err, merged) => {
      if (run.finished) return;
      if (err !== null) return run.finish({ ok: false, error: errorInfo('internal', `local write failed: ${err.message}`, true) });
      const others = entries.filter((e) => e.node !== self);
      this.replicate(run, intent, others, merged!, required, true, 'client');
    });
  }

  /**
   * Sends `value` to `entries` and answers once `required` acknowledgements
   * (this node's own counting when `selfAcked`) arrived.
   */
  replicate(run: RequestRun<WriteResponse>, intent: WriteIntent, entries: PreferenceEntry[], value: VersionedValue, required: number, selfAcked: boolean, origin: WriteOrigin): void {
    const self = this.d.env.nodeId;
    const core = new PutCore([...(selfAcked ? [self] : []), ...entries.map((e) => e.node)], required);
    if (selfAcked) core.ack(self);
    const check = (): void => {
      if (run.finished) return;
      const outcome = core.outcome();
      if (outcome === null) return;
      this.d.mark(outcome.ok ? 'write ok' : 'write failed');
      run.finish(outcome);
    };
    run.whenDeadline(() => {
      core.timeout();
      this.d.mark('write timed out');
      return core.outcome()!;
    });
    check();
    for (const e of entries) {
      if (e.hintFor !== undefined) this.d.mark('hinted write sent');
      const msg = { t: 'write', ks: intent.ks.name, key: intent.key, value, origin, hintFor: e.hintFor ?? null } as const;
      this.d.rpc.call(e.node, msg, run.deadline.remainingMs(), (reply) => {
        if (reply === null) return;
        if (reply.t === 'write_ok') core.ack(e.node);
        else if (reply.t === 'fail') core.refuse(e.node, reply.code, reply.message, reply.definite);
        check();
      });
    }
  }

  private forwardToHome(intent: WriteIntent, entries: PreferenceEntry[], done: (res: WriteResponse) => void): void {
    if (intent.forwarded) {
      this.d.mark('forwarded write refused');
      return void fail(done, errorInfo('unavailable', 'forwarded to a node that is not an up home replica of the key', true));
    }
    const home = entries.find((e) => e.role === 'primary');
    if (home === undefined) {
      this.d.mark('write unavailable');
      return void fail(done, errorInfo('unavailable', `no home replica of the key is reachable (0 of ${intent.ks.replicationFactor})`, true, { replied: 0, required: 1 }));
    }
    this.d.mark('write forwarded');
    const run = new RequestRun<WriteResponse>(this.d.env.timers, intent.deadline, done, () => ({
      ok: false,
      error: errorInfo('timeout', `forwarded to home replica ${home.node}, no answer in time`, false),
    }));
    const remaining = intent.deadline.remainingMs();
    const c = intent.consistency;
    const forward: ForwardedWrite = {
      op: intent.value === null ? 'delete' : 'put',
      ks: intent.ks.name,
      key: intent.key,
      value: intent.value,
      level: c?.level ?? null,
      w: c?.w ?? null,
      ttlMs: intent.ttlMs,
      context: intent.context,
      budgetMs: Math.max(1, Math.floor(remaining * FORWARD_BUDGET_SHARE)),
    };
    this.d.rpc.call(home.node, { t: 'forward', ...forward }, remaining, (reply) => {
      if (reply === null || reply.t !== 'forward_reply' || run.finished) return;
      if (reply.ok) return run.finish({ ok: true });
      const counts = reply.replied !== null && reply.required !== null ? { replied: reply.replied, required: reply.required } : undefined;
      run.finish({ ok: false, error: errorInfo(reply.code, `${reply.message} (coordinated by ${home.node})`, reply.definite, counts) });
    });
  }

  /**
   * Folds the newest timestamp a read saw into this node's HLC, so a write it
   * coordinates after the read is stamped above what the read returned. A
   * timestamp beyond the skew bound is not followed (hlc.ts says why).
   */
  private observe(v: VersionedValue | null): void {
    const newest = newestHlc(v);
    if (newest !== null && !this.d.lease.hlc.update(newest).accepted) this.d.mark('read saw a timestamp too far ahead');
  }

  /** The first N entries of the key's extended preference list under the liveness view. */
  sloppyList(key: Uint8Array, n: number): PreferenceEntry[] {
    return this.sloppyListAt(keyToken(key), n);
  }

  private sloppyListAt(token: bigint, n: number): PreferenceEntry[] {
    // One spare asked for and cut off: the list's first n entries are the up home
    // replicas and the fallbacks standing in for the down ones.
    const list = this.d.topology().readRing.extendedPreferenceList(token, n, 1, this.isUp);
    if (list.length > n) list.length = n;
    return list;
  }

  private readonly isUp = (node: string): boolean => this.d.liveness.isUp(node);
}

/**
 * A write's targets while ranges move: the sloppy list plus the key's pending
 * replicas, and the acknowledgements it needs (moving_quorum.ts). A pending node
 * that the sloppy list chose as a fallback takes the write itself instead of
 * a hint.
 */
export function withPending(replicas: WriteReplicas, home: PreferenceEntry[], w: number): { entries: PreferenceEntry[]; required: number } {
  const required = movingWriteQuorum(replicas, w);
  const { pending } = replicas;
  if (pending.length === 0) return { entries: home, required };
  const kept = home.filter((e) => !pending.includes(e.node));
  assert(home.every((e) => e.role === 'fallback' || !pending.includes(e.node)), 'a pending replica is never a current one');
  return { entries: [...kept, ...pending.map((node): PreferenceEntry => ({ node, role: 'primary' }))], required };
}

function fail(done: (res: WriteResponse) => void, error: ErrorInfo): null {
  done({ ok: false, error });
  return null;
}
