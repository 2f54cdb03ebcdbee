// The state the cluster ended in, as the convergence, durability and validity
// checkers read it: for every key any client touched or any replica holds,
// what each of its home replicas holds (dumpReplicaRecords of every node,
// after the liveness phase).

import { assert } from '../../io/assert.ts';
import { dottedValues } from '../../core/versioning/dotted_version_vector.ts';
import { formatHlc } from '../../core/versioning/hlc.ts';
import {
  type ConflictMode,
  type VersionedValue,
  type Write,
  encodeVersionedValue,
  mergeVersionedValues,
} from '../../core/versioning/versioned_value.ts';
import { valueText } from '../workload_value.ts';

export interface ReplicaHolding {
  readonly node: string;
  /** What the replica holds for the key; null when it holds nothing. */
  readonly value: VersionedValue | null;
}

export interface KeyReplicas {
  readonly keyspace: string;
  readonly key: string;
  readonly mode: ConflictMode;
  /** The key's home replicas whose records could be read, in preference order. */
  readonly replicas: readonly ReplicaHolding[];
}

/** The final state: every key's replicas, and the nodes whose records could not be read at all. */
export interface FinalState {
  readonly keys: readonly KeyReplicas[];
  /** A node that is up but failed to list its records (e.g. a table too corrupt to read), with why. */
  readonly unreadable: readonly { readonly node: string; readonly error: string }[];
  /**
   * Nodes lost for good during the run (the fault model's permanent loss of
   * a node), with why: they are no replica any more, and convergence is
   * judged over the others.
   */
  readonly lost: readonly { readonly node: string; readonly why: string }[];
}

/** One thing a checker found wrong, with the evidence. */
export interface CheckViolation {
  readonly check: 'linearizable' | 'converged' | 'durability' | 'validity';
  /** `keyspace/key`. */
  readonly key: string;
  readonly message: string;
}

/** What the replicas converge to once they have all exchanged versions: the merge of what they hold. */
export function mergedValue(k: KeyReplicas): VersionedValue | null {
  let merged: VersionedValue | null = null;
  for (const r of k.replicas) {
    if (r.value === null) continue;
    assert(r.value.mode === k.mode, `${k.keyspace}/${k.key}: replica ${r.node} holds a ${r.value.mode} version in a ${k.mode} keyspace`);
    merged = merged === null ? r.value : mergeVersionedValues(merged, r.value);
  }
  return merged;
}

/** Every write a version holds (the one LWW write, or every sibling, tombstones included). */
export function writesOf(v: VersionedValue | null): Write[] {
  if (v === null) return [];
  return v.mode === 'lww' ? [v.write] : dottedValues(v.dvv).map((d) => d.value);
}

/** Live value strings of a version (no TTL is used by the workload, so every value write is live). */
export function liveValues(v: VersionedValue | null): string[] {
  return writesOf(v)
    .filter((w) => w.kind === 'value')
    .map((w) => valueText((w as Extract<Write, { kind: 'value' }>).bytes));
}

function describeWrite(w: Write): string {
  return w.kind === 'value' ? `${JSON.stringify(valueText(w.bytes))} @${formatHlc(w.hlc)}` : `tombstone @${formatHlc(w.hlc)}`;
}

/** A version in one line, for violation messages. */
export function describeVersion(v: VersionedValue | null): string {
  if (v === null) return 'nothing';
  if (v.mode === 'lww') return describeWrite(v.write);
  const history = v.dvv.entries.map((e) => `${e.node}:${e.counter}`).join(',');
  const siblings = dottedValues(v.dvv).map((d) => `${d.dot.node}:${d.dot.counter}=${describeWrite(d.value)}`);
  return `{${siblings.join('; ')}} history [${history}]`;
}

/** Whether two versions are the same (byte-equal encodings; both encodings are canonical). */
export function sameVersion(a: VersionedValue | null, b: VersionedValue | null): boolean {
  if (a === null || b === null) return a === b;
  const x = encodeVersionedValue(a);
  const y = encodeVersionedValue(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
