// A test double of the store node contract, for testing the simulation
// harness itself (cluster, workload, runner, checkers, CLI) apart from the
// real replication code. Replicas live in one in-memory table shared by the
// nodes of a run (they survive crashes, as synced data would), and every
// answer comes back through the coordinator's timers, so a crash of the
// coordinator loses it. How the double behaves is chosen per run, including
// the bugs the checkers must catch:
//   - 'atomic': one copy per key, changed at the request: linearizable.
//   - 'lazy': a write lands on one home replica and reaches the others after
//     a delay; reads read one replica; a read at ALL merges all of them and
//     writes the merge back (read repair). Eventually consistent, not
//     linearizable.
//   - bugs: 'lose-writes' (acknowledges some writes without storing them),
//     'garbage-reads' (some reads return bytes no one wrote),
//     'coordinator-dots' ('lazy', siblings: the coordinator mints dots on
//     whichever replica takes the write, so two replicas mint the same dot
//     for different writes and a merge keeps only one of them).
// Versions are real versioned values: LWW stamped from the coordinator's
// wall clock (so clock skew loses writes, as in a real LWW store without
// HLC), or dotted version vector sets in siblings keyspaces.

import { assert } from '../io/assert.ts';
import type { Env } from '../io/env.ts';
import type { KeyspaceConfig } from '../core/replication/keyspace.ts';
import type { DeleteRequest, GetRequest, GetResponse, PutRequest, ReplicaRecord, WriteResponse } from '../core/replication/requests.ts';
import { keyToken } from '../core/ring/key_hash.ts';
import { Ring } from '../core/ring/ring.ts';
import { decodeContext, encodeContext } from '../core/versioning/dvv_codec.ts';
import {
  type VersionedValue,
  type Write,
  mergeVersionedValues,
  readVersionedValue,
  tombstoneWrite,
  valueWrite,
  writeSiblings,
} from '../core/versioning/versioned_value.ts';
import type { NodeConfig } from '../core/node.ts';
import type { ClusterNode, NodeOpener } from './cluster.ts';

export type FakeBehaviour = 'atomic' | 'lazy';
export type FakeBug = 'lose-writes' | 'garbage-reads' | 'coordinator-dots';

export interface FakeStoreOptions {
  behaviour: FakeBehaviour;
  bugs?: FakeBug[];
  /** 'lazy': delay before a write reaches the other home replicas. */
  replicationDelayMs?: number;
  /**
   * Probability that a request answers an error instead; half of the write
   * errors are definite (nothing applied), the others indefinite (applied or
   * not, by a coin).
   */
  errorProbability?: number;
}

/** The replicas of one simulated run: node -> `keyspace\0key` -> version. */
class FakeReplicas {
  readonly byNode = new Map<string, Map<string, VersionedValue>>();

  table(node: string): Map<string, VersionedValue> {
    let t = this.byNode.get(node);
    if (t === undefined) this.byNode.set(node, (t = new Map()));
    return t;
  }
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

class FakeStoreNode implements ClusterNode {
  private readonly counts = new Map<string, number>();
  private logical = 0;
  private readonly ring: Ring;
  private readonly keyspaces: Map<string, KeyspaceConfig>;

  constructor(
    private readonly env: Env,
    private readonly config: NodeConfig,
    private readonly replicas: FakeReplicas,
    private readonly options: FakeStoreOptions,
  ) {
    this.ring = Ring.fromEntries(config.members.flatMap((m) => m.tokens.map((token) => ({ token, node: m.id }))));
    this.keyspaces = new Map(config.keyspaces.map((ks) => [ks.name, ks]));
  }

  get(req: GetRequest, cb: (res: GetResponse) => void): void {
    if (this.env.rng.chance(this.options.errorProbability ?? 0)) {
      this.mark('get failed');
      this.reply(() => cb({ ok: false, error: { code: 'unavailable', message: 'fake: read needs 2 replicas, 1 answered', definite: false } }));
      return;
    }
    const ks = this.keyspaces.get(req.keyspace)!;
    const home = this.home(ks, req.key);
    const id = `${req.keyspace}\0${utf8Decoder.decode(req.key)}`;
    let version: VersionedValue | null;
    if (this.options.behaviour === 'atomic') {
      version = this.replicas.table(home[0]!).get(id) ?? null;
    } else if (req.consistency?.level === 'ALL') {
      version = null;
      for (const node of home) {
        const v = this.replicas.table(node).get(id);
        if (v !== undefined) version = version === null ? v : mergeVersionedValues(version, v);
      }
      if (version !== null) for (const node of home) this.replicas.table(node).set(id, version);
      this.mark('read repair sent');
    } else {
      version = this.replicas.table(home[this.env.rng.int(home.length)]!).get(id) ?? null;
    }
    const read = version === null ? { values: [], context: null } : readVersionedValue(version, this.env.clock.wallMs());
    let values = read.values;
    if (this.hasBug('garbage-reads') && this.env.rng.chance(0.2)) values = [utf8.encode('garbage')];
    const context = ks.conflictMode === 'siblings' ? encodeContext(read.context ?? []) : null;
    this.mark('get ok');
    this.reply(() => cb({ ok: true, found: values.length > 0, values, context }));
  }

  put(req: PutRequest, cb: (res: WriteResponse) => void): void {
    this.write(req.keyspace, req.key, req.value, req.context ?? null, cb);
  }

  delete(req: DeleteRequest, cb: (res: WriteResponse) => void): void {
    this.write(req.keyspace, req.key, null, req.context ?? null, cb);
  }

  dumpReplicaRecords(): ReplicaRecord[] {
    const out: ReplicaRecord[] = [];
    const tableOf = (node: string) => this.replicas.table(node);
    for (const [ksName, ks] of this.keyspaces) {
      const seen = new Set<string>();
      for (const node of this.config.members.map((m) => m.id)) {
        for (const id of tableOf(node).keys()) {
          const [name, key] = id.split('\0') as [string, string];
          if (name !== ksName || seen.has(key)) continue;
          seen.add(key);
          const keyBytes = utf8.encode(key);
          if (!this.home(ks, keyBytes).includes(this.config.nodeId)) continue;
          const mine = this.options.behaviour === 'atomic' ? tableOf(this.home(ks, keyBytes)[0]!).get(id) : tableOf(this.config.nodeId).get(id);
          if (mine !== undefined) out.push({ keyspace: ksName, key: keyBytes, value: mine });
        }
      }
    }
    return out;
  }

  pendingHints(): Map<string, number> {
    return new Map();
  }

  marks(): Map<string, number> {
    return new Map(this.counts);
  }

  // ---- internals ----

  private write(keyspace: string, key: Uint8Array, value: Uint8Array | null, context: string | null, cb: (res: WriteResponse) => void): void {
    const ks = this.keyspaces.get(keyspace)!;
    const home = this.home(ks, key);
    const id = `${keyspace}\0${utf8Decoder.decode(key)}`;
    const hlc = { wallMs: Math.floor(this.env.clock.wallMs()), logical: this.logical++, nodeId: this.config.nodeId };
    const w: Write = value === null ? tombstoneWrite(hlc) : valueWrite(hlc, value);
    if (this.env.rng.chance(this.options.errorProbability ?? 0)) {
      const definite = this.env.rng.chance(0.5);
      const applied = !definite && this.env.rng.chance(0.5);
      this.mark(definite ? 'write failed definitely' : applied ? 'write failed but applied' : 'write failed');
      if (!applied) {
        const message = `fake: write needs 2 acknowledgements, 1 came${definite ? ' (nothing was written)' : ''}`;
        this.reply(() => cb({ ok: false, error: { code: 'unavailable', message, definite } }));
        return;
      }
      const fail = cb;
      cb = () => fail({ ok: false, error: { code: 'timeout', message: 'fake: write timed out after it was stored', definite: false } });
    }
    if (this.hasBug('lose-writes') && this.env.rng.chance(0.3)) {
      this.mark('write lost');
      this.reply(() => cb({ ok: true }));
      return;
    }
    const target = this.options.behaviour === 'atomic' ? home[0]! : home[this.env.rng.int(home.length)]!;
    const current = this.replicas.table(target).get(id) ?? null;
    const next: VersionedValue =
      ks.conflictMode === 'lww'
        ? current === null
          ? { mode: 'lww', write: w }
          : mergeVersionedValues(current, { mode: 'lww', write: w })
        : // The replica mints the dot: a coordinator minting dots on replicas it does not hold would reuse them.
          writeSiblings(current, context === null ? [] : decodeContext(context), w, this.hasBug('coordinator-dots') ? this.config.nodeId : target);
    this.replicas.table(target).set(id, next);
    if (this.options.behaviour === 'lazy') {
      const delay = this.options.replicationDelayMs ?? 20;
      this.env.timers.setTimer(this.env.rng.int(delay + 1), () => {
        for (const node of home) {
          if (node === target) continue;
          const there = this.replicas.table(node).get(id);
          this.replicas.table(node).set(id, there === undefined ? next : mergeVersionedValues(there, next));
        }
      });
    }
    this.mark('write ok');
    this.reply(() => cb({ ok: true }));
  }

  private home(ks: KeyspaceConfig, key: Uint8Array): string[] {
    return this.ring.preferenceList(keyToken(key), ks.replicationFactor);
  }

  private reply(fn: () => void): void {
    this.env.timers.setTimer(1 + this.env.rng.int(3), fn);
  }

  private hasBug(bug: FakeBug): boolean {
    return this.options.bugs?.includes(bug) ?? false;
  }

  private mark(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }
}

/** An opener for one run: the nodes it opens share their replicas. Make a new one per run. */
export function fakeStoreOpener(options: FakeStoreOptions): NodeOpener {
  const replicas = new FakeReplicas();
  return (env, config, cb) => {
    assert(config.members.some((m) => m.id === config.nodeId), 'fake store: node not among the members');
    env.timers.setTimer(1, () => cb(null, new FakeStoreNode(env, config, replicas, options)));
  };
}
