// The fold of a coordinator's write over its replicas' answers (riak_kv's
// put_core): the write succeeds once W replicas acknowledged it, fails as
// soon as W acknowledgements have become impossible, and on the deadline
// fails with what it has. A failure is `definite` only when nothing can have
// been written anywhere: no acknowledgement, no replica left unanswered, and
// every refusal itself definite.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { type ErrorCode, type ErrorInfo, errorInfo } from './requests.ts';

export type PutOutcome = { ok: true } | { ok: false; error: ErrorInfo };

interface Refusal {
  code: ErrorCode;
  message: string;
  definite: boolean;
}

export class PutCore {
  private readonly acked = new Set<NodeId>();
  private readonly refused = new Map<NodeId, Refusal>();
  private readonly waiting: Set<NodeId>;
  private timedOut = false;

  constructor(
    targets: readonly NodeId[],
    readonly required: number,
    /** What is being written, for messages ("write", "write-back"). */
    private readonly what = 'write',
  ) {
    this.waiting = new Set(targets);
    assert(this.waiting.size === targets.length, 'put core: targets are distinct');
    if (!(Number.isInteger(required) && required >= 1)) assert(false, `put core: required ${required}`);
  }

  get acks(): number {
    return this.acked.size;
  }

  get pending(): number {
    return this.waiting.size;
  }

  ack(node: NodeId): void {
    if (!this.waiting.delete(node)) return; // a duplicate or an unknown replica
    this.acked.add(node);
  }

  refuse(node: NodeId, code: ErrorCode, message: string, definite: boolean): void {
    if (!this.waiting.delete(node)) return;
    this.refused.set(node, { code, message, definite });
  }

  /** The deadline passed: every replica still unanswered counts as unknown. */
  timeout(): void {
    this.timedOut = true;
  }

  /** null while the outcome is open. */
  outcome(): PutOutcome | null {
    if (this.acked.size >= this.required) return { ok: true };
    const possible = this.acked.size + (this.timedOut ? 0 : this.waiting.size);
    if (possible >= this.required) return null;
    return { ok: false, error: this.failure() };
  }

  private failure(): ErrorInfo {
    const counts = { replied: this.acked.size, required: this.required };
    const total = this.acked.size + this.refused.size + this.waiting.size;
    const parts = [`${this.what} needs ${this.required} acknowledgements, got ${this.acked.size} of ${total} replicas`];
    if (this.refused.size > 0) parts.push(`${this.refused.size} refused (${[...new Set([...this.refused.values()].map((r) => r.code))].sort().join(', ')})`);
    if (this.waiting.size > 0) parts.push(`${this.waiting.size} ${this.timedOut ? 'did not answer in time' : 'still unanswered'}`);
    const definite = this.acked.size === 0 && this.waiting.size === 0 && [...this.refused.values()].every((r) => r.definite);
    const message = parts.join('; ');
    if (this.timedOut && this.waiting.size > 0) return errorInfo('timeout', message, definite, counts);
    const codes = new Set([...this.refused.values()].map((r) => r.code));
    const code: ErrorCode = codes.size === 1 && !codes.has('timeout') ? [...codes][0]! : 'unavailable';
    return errorInfo(code, message, definite, counts);
  }
}
