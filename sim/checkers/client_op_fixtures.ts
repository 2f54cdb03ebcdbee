// Hand-built client histories and replica states for the checker tests.

import type { ConsistencyLevel } from '../../core/replication/consistency.ts';
import type { Hlc } from '../../core/versioning/hlc.ts';
import { type VersionedValue, tombstoneWrite, valueWrite } from '../../core/versioning/versioned_value.ts';
import type { ClientOp, ClientOpKind } from '../client_op.ts';
import type { Outcome } from '../history.ts';
import { formatWorkloadValue, valueBytes } from '../workload_value.ts';
import type { KeyReplicas } from './final_state.ts';

export const KS = 'default';

export function hlc(wallMs: number, nodeId = 'n1', logical = 0): Hlc {
  return { wallMs, logical, nodeId };
}

export function lwwValue(value: string, wallMs: number, nodeId = 'n1'): VersionedValue {
  return { mode: 'lww', write: valueWrite(hlc(wallMs, nodeId), valueBytes(value)) };
}

export function lwwTombstone(wallMs: number, nodeId = 'n1'): VersionedValue {
  return { mode: 'lww', write: tombstoneWrite(hlc(wallMs, nodeId)) };
}

export function replicasOf(key: string, mode: 'lww' | 'siblings', values: (VersionedValue | null)[], keyspace = KS): KeyReplicas {
  return { keyspace, key, mode, replicas: values.map((value, i) => ({ node: `n${i + 1}`, value })) };
}

interface OpSpec {
  process?: number;
  key?: string;
  keyspace?: string;
  call: number;
  ret?: number | null;
  outcome?: Outcome;
  consistency?: ConsistencyLevel;
  coordinator?: string;
  contextFrom?: number | null;
}

/** Builds operations in call order; values are real workload values, unique per client. */
export class OpLog {
  readonly ops: ClientOp[] = [];
  private readonly seqs = new Map<number, number>();

  write(spec: OpSpec): ClientOp {
    const process = spec.process ?? 0;
    const seq = (this.seqs.get(process) ?? 0) + 1;
    this.seqs.set(process, seq);
    const value = formatWorkloadValue({ keyspace: spec.keyspace ?? KS, key: spec.key ?? 'k', process, seq });
    return this.add('write', spec, { value });
  }

  delete(spec: OpSpec): ClientOp {
    return this.add('delete', spec, {});
  }

  read(spec: OpSpec & { values: string[] }): ClientOp {
    return this.add('read', spec, { values: (spec.outcome ?? 'ok') === 'ok' ? spec.values : null });
  }

  private add(kind: ClientOpKind, spec: OpSpec, extra: { value?: string; values?: string[] | null }): ClientOp {
    const outcome = spec.outcome ?? 'ok';
    const op: ClientOp = {
      index: this.ops.length,
      process: spec.process ?? 0,
      keyspace: spec.keyspace ?? KS,
      key: spec.key ?? 'k',
      kind,
      consistency: spec.consistency ?? 'QUORUM',
      coordinator: spec.coordinator ?? 'n1',
      value: extra.value ?? null,
      contextSent: spec.contextFrom === undefined || spec.contextFrom === null ? null : `ctx-of-${spec.contextFrom}`,
      contextFrom: spec.contextFrom ?? null,
      call: spec.call,
      ret: outcome === 'info' ? null : (spec.ret ?? spec.call + 1),
      outcome,
      values: extra.values ?? null,
      contextReturned: kind === 'read' && outcome === 'ok' ? `ctx-${this.ops.length}` : null,
      error: outcome === 'ok' ? null : 'test error',
    };
    this.ops.push(op);
    return op;
  }
}
