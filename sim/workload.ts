// Simulated clients. Each client is one process of the history: it issues one
// operation at a time (get, put or delete) on a key drawn from the scenario's
// key groups, with a consistency level drawn from the group's, against a
// random open node as coordinator, waits for the answer, thinks for a while
// and goes again. Every write writes a value no other write writes
// (workload_value.ts).
//
// Outcomes as the history records them:
//   - ok: the node answered ok.
//   - read that did not answer ok: fail (a read changes nothing, and it
//     observed nothing).
//   - write/delete error with `definite`: fail (it took effect nowhere).
//   - any other error, or no answer within the client's timeout (the
//     coordinator crashed, or is too slow): info, unknown outcome.
// In siblings keyspaces a client remembers the context of its last read of
// each key and sends it with a later write or delete of that key with the
// group's probability (otherwise it writes blind, making siblings).
//
// A node must call every callback exactly once; a second answer to one
// request is an assertion failure of the run. An answer that arrives after
// the client gave up is ignored (the operation stays of unknown outcome).

// Per-event checks throw AssertionError themselves: a template message passed to
// assert() would be built (numbers formatted) on every call, not only on failure.
import { AssertionError, assert } from '../io/assert.ts';
import type { ConsistencyLevel } from '../core/replication/consistency.ts';
import type { ErrorInfo } from '../core/replication/requests.ts';
import type { ClientOp, ClientOpKind } from './client_op.ts';
import type { SimCluster } from './cluster.ts';
import type { Outcome } from './history.ts';
import type { SimRng } from './sim_rng.ts';
import type { Simulator } from './simulator.ts';
import { formatWorkloadValue, valueBytes, valueText } from './workload_value.ts';

export interface KeyGroup {
  keyspace: string;
  /** Keys are `${prefix}${i}` for i < keys. */
  prefix: string;
  keys: number;
  /** Levels drawn uniformly per operation. */
  consistency: ConsistencyLevel[];
  /** Levels for reads, when they differ from those of writes and deletes. */
  readConsistency?: ConsistencyLevel[];
  /** Relative share of operations on this group. */
  weight: number;
  /** Operation mix (relative weights). */
  mix: { read: number; write: number; delete: number };
  /** siblings keyspaces: probability that a write or delete carries the context of the client's last read of the key. */
  contextProbability?: number;
  /** Whether the linearizability check covers this group's keys. */
  linearizable: boolean;
}

export interface WorkloadSpec {
  clients: number;
  groups: KeyGroup[];
  /** Mean of the exponential pause between a client's operations. */
  thinkMs: number;
  /** A client gives up on an operation after this long (outcome info / fail for reads). */
  clientTimeoutMs: number;
}

interface Client {
  readonly process: number;
  seq: number;
  /** Per `keyspace/key`: the last ok read of this client, for its context. */
  readonly lastRead: Map<string, ClientOp>;
  busy: boolean;
}

export class Workload {
  /** Client operations in call order. */
  readonly ops: ClientOp[] = [];
  /** Reads of the liveness phase's read-all passes (not part of the history). */
  readonly finalReads: ClientOp[] = [];
  private readonly clients: Client[] = [];
  private stopped = true;
  private inFlight = 0;
  private readonly totalWeight: number;
  private finalProcess: number;

  constructor(
    private readonly sim: Simulator,
    private readonly cluster: SimCluster,
    readonly spec: WorkloadSpec,
    private readonly rng: SimRng,
  ) {
    assert(spec.clients >= 1 && spec.groups.length > 0, 'workload needs clients and key groups');
    for (const g of spec.groups) {
      assert(g.keys >= 1 && g.consistency.length > 0 && g.weight > 0 && g.readConsistency?.length !== 0, `key group ${g.prefix}: bad spec`);
      assert(g.mix.read + g.mix.write + g.mix.delete > 0, `key group ${g.prefix}: empty mix`);
      cluster.keyspace(g.keyspace);
    }
    const names = this.keys().map((k) => `${k.keyspace}/${k.key}`);
    assert(new Set(names).size === names.length, 'two key groups name the same key');
    this.totalWeight = spec.groups.reduce((s, g) => s + g.weight, 0);
    for (let p = 0; p < spec.clients; p++) this.clients.push({ process: p, seq: 0, lastRead: new Map(), busy: false });
    this.finalProcess = spec.clients;
  }

  /** Every key of every group. */
  keys(): { keyspace: string; key: string; group: KeyGroup }[] {
    return this.spec.groups.flatMap((group) => Array.from({ length: group.keys }, (_, i) => ({ keyspace: group.keyspace, key: `${group.prefix}${i}`, group })));
  }

  start(): void {
    assert(this.stopped, 'workload started twice');
    this.stopped = false;
    for (const c of this.clients) this.sim.schedule(this.rng.exponential(this.spec.thinkMs), `client ${c.process}`, () => this.issue(c));
  }

  /** No new operations from now on; operations in flight still complete or time out. */
  stop(): void {
    this.stopped = true;
  }

  /** No operation (client or final read) is waiting for an answer. */
  idle(): boolean {
    return this.inFlight === 0;
  }

  /**
   * Reads every key at `level` (the liveness phase's repair trigger), the
   * keys spread over the open nodes; pass p shifts the spread by p, so that
   * successive passes ask each key through different coordinators.
   */
  readAll(level: ConsistencyLevel, pass = 0): void {
    const coordinators = this.cluster.readyIds();
    assert(coordinators.length > 0, 'readAll: no open node');
    this.keys().forEach(({ keyspace, key }, i) => {
      const coordinator = coordinators[(i + pass) % coordinators.length]!;
      const op = this.newOp(this.finalProcess++, keyspace, key, 'read', level, coordinator, null, null);
      this.finalReads.push(op);
      this.send(op, () => {});
    });
  }

  // ---- clients ----

  private issue(c: Client): void {
    if (this.stopped) return;
    if (c.busy) throw new AssertionError(`client ${c.process} issued while busy`);
    const coordinators = this.cluster.readyIds();
    if (coordinators.length === 0) {
      this.sim.schedule(this.rng.exponential(this.spec.thinkMs) + 1, `client ${c.process}`, () => this.issue(c));
      return;
    }
    const group = this.pickGroup();
    const key = `${group.prefix}${this.rng.int(group.keys)}`;
    const kind = this.pickKind(group);
    const level = this.rng.pick(kind === 'read' ? (group.readConsistency ?? group.consistency) : group.consistency);
    const coordinator = this.rng.pick(coordinators);
    let value: string | null = null;
    if (kind === 'write') value = formatWorkloadValue({ keyspace: group.keyspace, key, process: c.process, seq: ++c.seq });
    let context: ClientOp | null = null;
    if (kind !== 'read' && this.cluster.keyspace(group.keyspace).conflictMode === 'siblings') {
      const last = c.lastRead.get(`${group.keyspace}/${key}`);
      if (last !== undefined && this.rng.chance(group.contextProbability ?? 0.8)) context = last;
    }
    const op = this.newOp(c.process, group.keyspace, key, kind, level, coordinator, value, context);
    this.ops.push(op);
    c.busy = true;
    this.send(op, () => {
      c.busy = false;
      if (op.kind === 'read' && op.outcome === 'ok') c.lastRead.set(`${op.keyspace}/${op.key}`, op);
      this.sim.schedule(this.rng.exponential(this.spec.thinkMs), `client ${c.process}`, () => this.issue(c));
    });
  }

  private pickGroup(): KeyGroup {
    let x = this.rng.next() * this.totalWeight;
    for (const g of this.spec.groups) {
      x -= g.weight;
      if (x < 0) return g;
    }
    return this.spec.groups[this.spec.groups.length - 1]!;
  }

  private pickKind(g: KeyGroup): ClientOpKind {
    const x = this.rng.next() * (g.mix.read + g.mix.write + g.mix.delete);
    if (x < g.mix.read) return 'read';
    return x < g.mix.read + g.mix.write ? 'write' : 'delete';
  }

  private newOp(
    process: number,
    keyspace: string,
    key: string,
    kind: ClientOpKind,
    consistency: ConsistencyLevel,
    coordinator: string,
    value: string | null,
    context: ClientOp | null,
  ): ClientOp {
    return {
      // Final reads are numbered after the client operations (validity reads both lists as one).
      index: this.ops.length + this.finalReads.length,
      process,
      keyspace,
      key,
      kind,
      consistency,
      coordinator,
      value,
      contextSent: context?.contextReturned ?? null,
      contextFrom: context?.index ?? null,
      call: this.sim.nowMs(),
      ret: null,
      outcome: null,
      values: null,
      contextReturned: null,
      error: null,
    };
  }

  /** Sends `op` to its coordinator; `done` runs once the operation has an outcome. */
  private send(op: ClientOp, done: () => void): void {
    const node = this.cluster.node(op.coordinator);
    if (node === null) throw new AssertionError(`send to ${op.coordinator}, which is not open`);
    this.inFlight++;
    let answered = false;
    const finish = (outcome: Outcome, error: string | null): void => {
      op.outcome = outcome;
      op.ret = this.sim.nowMs();
      op.error = error;
      this.inFlight--;
      done();
    };
    const timeout = this.sim.schedule(this.spec.clientTimeoutMs, `client ${op.process} timeout`, () => {
      if (op.outcome === null) finish(op.kind === 'read' ? 'fail' : 'info', 'client timeout');
    });
    const answer = (ok: boolean, error: ErrorInfo | null, apply: () => void): void => {
      if (answered) throw new AssertionError(`node ${op.coordinator} answered ${op.kind} #${op.index + 1} twice`);
      answered = true;
      if (op.outcome !== null) return; // the client gave up already
      this.sim.cancel(timeout);
      if (ok) {
        apply();
        finish('ok', null);
        return;
      }
      const definite = op.kind === 'read' || error!.definite;
      finish(definite ? 'fail' : 'info', `${error!.code}: ${error!.message}`);
    };
    const key = valueBytes(op.key);
    const consistency = { level: op.consistency };
    if (op.kind === 'read') {
      node.get({ keyspace: op.keyspace, key, consistency }, (res) =>
        answer(res.ok, res.ok ? null : res.error, () => {
          assert(res.ok, 'unreachable');
          if (res.found !== res.values.length > 0) throw new AssertionError(`get answered found=${res.found} with ${res.values.length} values`);
          op.values = res.values.map(valueText);
          op.contextReturned = res.context;
        }),
      );
    } else if (op.kind === 'write') {
      node.put({ keyspace: op.keyspace, key, value: valueBytes(op.value!), consistency, context: op.contextSent }, (res) =>
        answer(res.ok, res.ok ? null : res.error, () => {}),
      );
    } else {
      node.delete({ keyspace: op.keyspace, key, consistency, context: op.contextSent }, (res) =>
        answer(res.ok, res.ok ? null : res.error, () => {}),
      );
    }
  }
}
