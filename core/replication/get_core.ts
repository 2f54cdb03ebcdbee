// The fold of a coordinator's read over its replicas' answers (riak_kv's
// get_core): the read answers with the merge of what it has once R replicas
// replied, fails as soon as R replies have become impossible or the deadline
// passes, and once every replica answered (or the deadline passed) names the
// replicas whose version falls short of the merge of all replies: the read
// repair targets.
//
// A reply can be merged without counting towards R: STRONG reads take the
// version of a replica that may have lost acknowledged writes
// (replica_completeness.ts), but a quorum of it could miss a completed write.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { ConflictModeMismatchError } from '../versioning/errors.ts';
import type { VersionedValue } from '../versioning/versioned_value.ts';
import { type ErrorCode, type ErrorInfo, errorInfo } from './requests.ts';
import { mergeAll, sameVersion } from './version_set.ts';

export type GetOutcome = { ok: true; merged: VersionedValue | null; replied: number } | { ok: false; error: ErrorInfo };

export interface RepairPlan {
  /** The merge of every reply. */
  merged: VersionedValue | null;
  /** Replicas that replied with less than `merged`, in target order. */
  stale: NodeId[];
  /** Replicas whose reply counts towards R and is exactly `merged`. */
  current: NodeId[];
}

export class GetCore {
  private readonly replies = new Map<NodeId, VersionedValue | null>();
  /** Replies merged but not counted towards `required`. */
  private readonly uncounted = new Set<NodeId>();
  private readonly failures = new Map<NodeId, ErrorCode>();
  private readonly waiting: Set<NodeId>;
  private timedOut = false;

  constructor(
    private readonly targets: readonly NodeId[],
    readonly required: number,
  ) {
    this.waiting = new Set(targets);
    assert(this.waiting.size === targets.length, 'get core: targets are distinct');
    if (!(Number.isInteger(required) && required >= 1)) assert(false, `get core: required ${required}`);
  }

  /** Replies that count towards `required`. */
  get replied(): number {
    return this.replies.size - this.uncounted.size;
  }

  /** `counts: false`: merged into the answer, but not one of the R replies. */
  reply(node: NodeId, value: VersionedValue | null, counts = true): void {
    if (!this.waiting.delete(node)) return;
    this.replies.set(node, value);
    if (!counts) this.uncounted.add(node);
  }

  fail(node: NodeId, code: ErrorCode): void {
    if (!this.waiting.delete(node)) return;
    this.failures.set(node, code);
  }

  timeout(): void {
    this.timedOut = true;
  }

  /** Every replica has answered or the deadline passed: nothing more will arrive. */
  get finished(): boolean {
    return this.timedOut || this.waiting.size === 0;
  }

  /** null while the outcome is open. Replicas holding versions of different modes (a misconfigured cluster) fail the read. */
  outcome(): GetOutcome | null {
    if (this.replied >= this.required) {
      try {
        return { ok: true, merged: mergeAll(this.replies.values()), replied: this.replied };
      } catch (err) {
        if (!(err instanceof ConflictModeMismatchError)) throw err;
        return { ok: false, error: errorInfo('internal', `replicas disagree: ${err.message}`, false) };
      }
    }
    const possible = this.replied + (this.timedOut ? 0 : this.waiting.size);
    if (possible >= this.required) return null;
    return { ok: false, error: this.failure() };
  }

  /** The repair targets among the replies so far (none when replicas disagree on the mode). */
  repairPlan(): RepairPlan {
    let merged: VersionedValue | null;
    try {
      merged = mergeAll(this.replies.values());
    } catch (err) {
      if (!(err instanceof ConflictModeMismatchError)) throw err;
      return { merged: null, stale: [], current: [] };
    }
    const stale: NodeId[] = [];
    const current: NodeId[] = [];
    for (const node of this.targets) {
      if (!this.replies.has(node)) continue;
      if (!sameVersion(this.replies.get(node)!, merged)) stale.push(node);
      else if (!this.uncounted.has(node)) current.push(node);
    }
    return { merged, stale, current };
  }

  private failure(): ErrorInfo {
    const counts = { replied: this.replied, required: this.required };
    const parts = [`read needs ${this.required} replies, got ${this.replied} of ${this.targets.length} replicas`];
    if (this.uncounted.size > 0) parts.push(`${this.uncounted.size} from replicas that may have lost writes`);
    if (this.failures.size > 0) parts.push(`${this.failures.size} failed (${[...new Set(this.failures.values())].sort().join(', ')})`);
    if (this.waiting.size > 0) parts.push(`${this.waiting.size} ${this.timedOut ? 'did not answer in time' : 'still unanswered'}`);
    const message = parts.join('; ');
    if (this.timedOut && this.waiting.size > 0) return errorInfo('timeout', message, false, counts);
    const codes = new Set(this.failures.values());
    const code: ErrorCode = codes.size === 1 && !codes.has('timeout') ? [...codes][0]! : 'unavailable';
    return errorInfo(code, message, false, counts);
  }
}
