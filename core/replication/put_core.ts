// The fold of a coordinator's write over its replicas' answers (riak_kv's
// put_core): the write succeeds once W replicas acknowledged it, fails as
// soon as W acknowledgements have become impossible, and on the deadline
// fails with what it has. A failure is `definite` only when nothing can have
// been written anywhere: no acknowledgement, no replica left unanswered, and
// every refusal itself definite.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { type ErrorCode, type ErrorInfo, errorInfo } from './requests.ts';
import { WAITING, assertDistinctTargets, waitingIndexOf } from './target_answers.ts';

export type PutOutcome = { ok: true } | { ok: false; error: ErrorInfo };

interface Refusal {
  code: ErrorCode;
  message: string;
  definite: boolean;
}

// Per target, by its index in `targets` (a write has a handful): what it answered.
const ACKED = 1;
const REFUSED = 2;

export class PutCore {
  private readonly targets: readonly NodeId[];
  private readonly state: number[];
  /** Refusals in the order they came, made at the first. */
  private refusals: Refusal[] | null = null;
  private ackCount = 0;
  private waitingCount: number;
  private timedOut = false;

  constructor(
    targets: readonly NodeId[],
    readonly required: number,
    /** What is being written, for messages ("write", "write-back"). */
    private readonly what = 'write',
  ) {
    assertDistinctTargets(targets, 'put core');
    if (!(Number.isInteger(required) && required >= 1)) assert(false, `put core: required ${required}`);
    this.targets = targets.slice();
    this.state = new Array<number>(targets.length).fill(WAITING);
    this.waitingCount = targets.length;
  }

  get acks(): number {
    return this.ackCount;
  }

  get pending(): number {
    return this.waitingCount;
  }

  ack(node: NodeId): void {
    const i = this.waitingIndex(node);
    if (i < 0) return; // a duplicate or an unknown replica
    this.state[i] = ACKED;
    this.ackCount++;
  }

  refuse(node: NodeId, code: ErrorCode, message: string, definite: boolean): void {
    const i = this.waitingIndex(node);
    if (i < 0) return;
    this.state[i] = REFUSED;
    (this.refusals ??= []).push({ code, message, definite });
  }

  /** The deadline passed: every replica still unanswered counts as unknown. */
  timeout(): void {
    this.timedOut = true;
  }

  /** null while the outcome is open. */
  outcome(): PutOutcome | null {
    if (this.ackCount >= this.required) return { ok: true };
    const possible = this.ackCount + (this.timedOut ? 0 : this.waitingCount);
    if (possible >= this.required) return null;
    return { ok: false, error: this.failure() };
  }

  /** The index of `node` if it is a target still waiting, else -1. */
  private waitingIndex(node: NodeId): number {
    const i = waitingIndexOf(this.targets, this.state, node);
    if (i < 0) return -1;
    this.waitingCount--;
    return i;
  }

  private failure(): ErrorInfo {
    const refusals = this.refusals ?? [];
    const counts = { replied: this.ackCount, required: this.required };
    const total = this.targets.length;
    const parts = [`${this.what} needs ${this.required} acknowledgements, got ${this.ackCount} of ${total} replicas`];
    if (refusals.length > 0) parts.push(`${refusals.length} refused (${[...new Set(refusals.map((r) => r.code))].sort().join(', ')})`);
    if (this.waitingCount > 0) parts.push(`${this.waitingCount} ${this.timedOut ? 'did not answer in time' : 'still unanswered'}`);
    const definite = this.ackCount === 0 && this.waitingCount === 0 && refusals.every((r) => r.definite);
    const message = parts.join('; ');
    if (this.timedOut && this.waitingCount > 0) return errorInfo('timeout', message, definite, counts);
    const codes = new Set(refusals.map((r) => r.code));
    const code: ErrorCode = codes.size === 1 && !codes.has('timeout') ? [...codes][0]! : 'unavailable';
    return errorInfo(code, message, definite, counts);
  }
}
