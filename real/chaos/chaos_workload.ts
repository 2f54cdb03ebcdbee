// The clients of a chaos run: several concurrent loops over a fixed key set,
// each issuing one request at a time over HTTP (the SDK with retries off, so
// one history operation is one request) to a node chosen at random, and
// recording every operation as a ClientOp with real invocation and
// completion times (ms since the run began, from a monotonic clock).
//
// Keys of the `default` keyspace (lww): `s*` used only with STRONG (the
// linearizability check covers them), `q*` with QUORUM, `o*` with ONE.
// Values are workload values (sim/workload_value.ts): unique per write, naming
// their write, checksummed. Outcomes: ok; fail when the node said the
// operation definitely did not happen (an error with definite=true, a 4xx,
// or a refused connection); info otherwise (a timeout, a reset connection,
// definite=false). After an info operation the client continues as a new
// process, as in Jepsen: the old one may still have that operation in flight.

import { assert } from '../../io/assert.ts';
import type { ConsistencyLevel } from '../../core/replication/consistency.ts';
import type { ClientOp, ClientOpKind } from '../../sim/client_op.ts';
import { formatWorkloadValue, valueText } from '../../sim/workload_value.ts';
import type { Outcome } from '../../sim/history.ts';
import { Client, RingkvError } from '../client.ts';

export const CHAOS_KEYSPACE = 'default';

export interface KeyGroupSpec {
  prefix: string;
  keys: number;
  consistency: ConsistencyLevel;
  /** Relative share of operations. */
  weight: number;
  /** Checked for linearizability. */
  linearizable: boolean;
}

export const DEFAULT_GROUPS: readonly KeyGroupSpec[] = [
  { prefix: 's', keys: 4, consistency: 'STRONG', weight: 2, linearizable: true },
  { prefix: 'q', keys: 4, consistency: 'QUORUM', weight: 1, linearizable: false },
  { prefix: 'o', keys: 4, consistency: 'ONE', weight: 1, linearizable: false },
];

export interface WorkloadOptions {
  clients: number;
  groups: readonly KeyGroupSpec[];
  /** Client-side timeout per request; past it the operation is info. */
  timeoutMs: number;
  /** Pause between a client's operations. */
  thinkMs: number;
  /** Uniform [0, 1). */
  random: () => number;
  /** ms since the run began. */
  now: () => number;
}

const MIX: ReadonlyArray<[ClientOpKind, number]> = [['read', 2], ['write', 2], ['delete', 1]];

export class ChaosWorkload {
  readonly ops: ClientOp[] = [];
  readonly finalReads: ClientOp[] = [];
  private readonly clients = new Map<string, Client>();
  private running = false;
  private loops: Promise<void>[] = [];
  private nextProcess: number;
  private readonly seq = new Map<number, number>();

  constructor(
    private readonly o: WorkloadOptions,
    private readonly urls: ReadonlyMap<string, string>,
    apiToken: string,
  ) {
    assert(o.clients >= 1 && o.groups.length >= 1, 'a workload needs clients and key groups');
    for (const [id, url] of urls) this.clients.set(id, new Client({ nodes: [url], apiToken, retries: 0, timeoutMs: o.timeoutMs, maxSockets: 4 }));
    this.nextProcess = o.clients;
  }

  /** Every key of the workload, with its group. */
  keys(): Array<{ keyspace: string; key: string; group: KeyGroupSpec }> {
    return this.o.groups.flatMap((g) => Array.from({ length: g.keys }, (_, i) => ({ keyspace: CHAOS_KEYSPACE, key: `${g.prefix}${i}`, group: g })));
  }

  start(): void {
    assert(!this.running, 'workload already running');
    this.running = true;
    this.loops = Array.from({ length: this.o.clients }, (_, c) => this.loop(c));
  }

  /** Stops issuing operations and waits for those in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Reads every key once at `consistency` through `node`; these reads go to finalReads. Returns how many succeeded. */
  async readAll(node: string, consistency: ConsistencyLevel, process: number): Promise<number> {
    let ok = 0;
    for (const { key } of this.keys()) {
      const op = this.newOp(this.finalReads.length, process, key, 'read', consistency, node, null);
      this.finalReads.push(op);
      await this.perform(op);
      if (op.outcome === 'ok') ok++;
    }
    return ok;
  }

  private pick<T>(items: readonly T[], weight: (t: T) => number): T {
    const total = items.reduce((s, t) => s + weight(t), 0);
    let r = this.o.random() * total;
    for (const t of items) {
      r -= weight(t);
      if (r < 0) return t;
    }
    return items[items.length - 1]!;
  }

  private async loop(client: number): Promise<void> {
    let process = client;
    const nodes = [...this.urls.keys()];
    while (this.running) {
      const group = this.pick(this.o.groups, (g) => g.weight);
      const key = `${group.prefix}${Math.floor(this.o.random() * group.keys)}`;
      const kind = this.pick(MIX, ([, w]) => w)[0];
      const node = nodes[Math.floor(this.o.random() * nodes.length)]!;
      let value: string | null = null;
      if (kind === 'write') {
        const seq = (this.seq.get(process) ?? 0) + 1;
        this.seq.set(process, seq);
        value = formatWorkloadValue({ keyspace: CHAOS_KEYSPACE, key, process, seq });
      }
      const op = this.newOp(this.ops.length, process, key, kind, group.consistency, node, value);
      this.ops.push(op);
      await this.perform(op);
      if (op.outcome === 'info') process = this.nextProcess++;
      await new Promise((r) => setTimeout(r, this.o.thinkMs * (0.5 + this.o.random())));
    }
  }

  private newOp(index: number, process: number, key: string, kind: ClientOpKind, consistency: ConsistencyLevel, node: string, value: string | null): ClientOp {
    return {
      index, process, keyspace: CHAOS_KEYSPACE, key, kind, consistency, coordinator: node, value,
      contextSent: null, contextFrom: null, call: this.o.now(), ret: null, outcome: null, values: null, contextReturned: null, error: null,
    };
  }

  private async perform(op: ClientOp): Promise<void> {
    const client = this.clients.get(op.coordinator)!;
    const opts = { consistency: op.consistency };
    let outcome: Outcome;
    try {
      if (op.kind === 'read') {
        const r = await client.get(op.keyspace, op.key, opts);
        op.values = r.values.map(valueText);
        op.contextReturned = r.context;
      } else if (op.kind === 'write') {
        await client.put(op.keyspace, op.key, op.value!, opts);
      } else {
        await client.delete(op.keyspace, op.key, opts);
      }
      outcome = 'ok';
    } catch (err) {
      const definite = definitelyFailed(err);
      outcome = definite ? 'fail' : 'info';
      op.error = err instanceof RingkvError ? `${err.status} ${err.code}: ${err.message}` : String(err);
    }
    op.ret = this.o.now();
    op.outcome = outcome;
  }
}

/** Whether a failed request certainly changed nothing. */
export function definitelyFailed(err: unknown): boolean {
  if (!(err instanceof RingkvError)) return false;
  // The SDK reports transport failures as code 'connection'; only a refused connection never reached a node.
  if (err.code === 'connection') return /ECONNREFUSED/.test(err.message);
  // A 4xx without a `definite` flag was refused before anything ran (malformed, overloaded at the door).
  return err.details.definite ?? (err.status >= 400 && err.status < 500);
}
