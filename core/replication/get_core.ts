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
import { VersionComparer, mergeAll } from './version_set.ts';
import { WAITING, assertDistinctTargets, waitingIndexOf } from './target_answers.ts';

export type GetOutcome = { ok: true; merged: VersionedValue | null; replied: number } | { ok: false; error: ErrorInfo };

export interface RepairPlan {
  /** The merge of every reply. */
  merged: VersionedValue | null;
  /** Replicas that replied with less than `merged`, in target order. */
  stale: NodeId[];
  /** Replicas whose reply counts towards R and is exactly `merged`. */
  current: NodeId[];
}

// Per target, by its index in `targets` (a read has a handful): what it answered.
const REPLIED = 1;
/** Replied; merged but not counted towards `required`. */
const REPLIED_UNCOUNTED = 2;
const FAILED = 3;

export class GetCore {
  private readonly state: number[];
  private readonly values: (VersionedValue | null)[];
  /** Failure codes by target, made at the first failure. */
  private codes: (ErrorCode | null)[] | null = null;
  /** The replies' values in the order they came: merges fold them in that order. */
  private readonly replyValues: (VersionedValue | null)[] = [];
  private waitingCount: number;
  private uncountedCount = 0;
  private failureCount = 0;
  private timedOut = false;

  constructor(
    private readonly targets: readonly NodeId[],
    readonly required: number,
  ) {
    assertDistinctTargets(targets, 'get core');
    if (!(Number.isInteger(required) && required >= 1)) assert(false, `get core: required ${required}`);
    const n = targets.length;
    this.state = new Array<number>(n).fill(WAITING);
    this.values = new Array<VersionedValue | null>(n).fill(null);
    this.waitingCount = n;
  }

  /** Replies that count towards `required`. */
  get replied(): number {
    return this.replyValues.length - this.uncountedCount;
  }

  /** `counts: false`: merged into the answer, but not one of the R replies. */
  reply(node: NodeId, value: VersionedValue | null, counts = true): void {
    const i = this.waitingIndex(node);
    if (i < 0) return;
    this.state[i] = counts ? REPLIED : REPLIED_UNCOUNTED;
    this.values[i] = value;
    this.replyValues.push(value);
    if (!counts) this.uncountedCount++;
  }

  fail(node: NodeId, code: ErrorCode): void {
    const i = this.waitingIndex(node);
    if (i < 0) return;
    this.state[i] = FAILED;
    this.codes ??= new Array<ErrorCode | null>(this.targets.length).fill(null);
    this.codes[i] = code;
    this.failureCount++;
  }

  timeout(): void {
    this.timedOut = true;
  }

  /** Every replica has answered or the deadline passed: nothing more will arrive. */
  get finished(): boolean {
    return this.timedOut || this.waitingCount === 0;
  }

  /** null while the outcome is open. Replicas holding versions of different modes (a misconfigured cluster) fail the read. */
  outcome(): GetOutcome | null {
    if (this.replied >= this.required) {
      try {
        return { ok: true, merged: mergeAll(this.replyValues), replied: this.replied };
      } catch (err) {
        if (!(err instanceof ConflictModeMismatchError)) throw err;
        return { ok: false, error: errorInfo('internal', `replicas disagree: ${err.message}`, false) };
      }
    }
    const possible = this.replied + (this.timedOut ? 0 : this.waitingCount);
    if (possible >= this.required) return null;
    return { ok: false, error: this.failure() };
  }

  /** The repair targets among the replies so far (none when replicas disagree on the mode). */
  repairPlan(): RepairPlan {
    let merged: VersionedValue | null;
    try {
      merged = mergeAll(this.replyValues);
    } catch (err) {
      if (!(err instanceof ConflictModeMismatchError)) throw err;
      return { merged: null, stale: [], current: [] };
    }
    const stale: NodeId[] = [];
    const current: NodeId[] = [];
    const isMerged = new VersionComparer(merged);
    for (let i = 0; i < this.targets.length; i++) {
      const state = this.state[i]!;
      if (state !== REPLIED && state !== REPLIED_UNCOUNTED) continue;
      if (!isMerged.same(this.values[i]!)) stale.push(this.targets[i]!);
      else if (state === REPLIED) current.push(this.targets[i]!);
    }
    return { merged, stale, current };
  }

  /** The index of `node` if it is a target still waiting, else -1 (an unknown node or a second answer is ignored). */
  private waitingIndex(node: NodeId): number {
    const i = waitingIndexOf(this.targets, this.state, node);
    if (i < 0) return -1;
    this.waitingCount--;
    return i;
  }

  private failure(): ErrorInfo {
    const counts = { replied: this.replied, required: this.required };
    const parts = [`read needs ${this.required} replies, got ${this.replied} of ${this.targets.length} replicas`];
    if (this.uncountedCount > 0) parts.push(`${this.uncountedCount} from replicas that may have lost writes`);
    // The distinct codes: listed sorted, and used as the read's code only when there is one.
    const codes = new Set<ErrorCode>();
    for (let i = 0; i < this.targets.length; i++) if (this.state[i] === FAILED) codes.add(this.codes![i]!);
    if (this.failureCount > 0) parts.push(`${this.failureCount} failed (${[...codes].sort().join(', ')})`);
    if (this.waitingCount > 0) parts.push(`${this.waitingCount} ${this.timedOut ? 'did not answer in time' : 'still unanswered'}`);
    const message = parts.join('; ');
    if (this.timedOut && this.waitingCount > 0) return errorInfo('timeout', message, false, counts);
    const code: ErrorCode = codes.size === 1 && !codes.has('timeout') ? [...codes][0]! : 'unavailable';
    return errorInfo(code, message, false, counts);
  }
}
