// Helpers over the versions replicas report for one key: the merge of all of
// them (what a coordinator answers with), and whether a replica's version
// already is that merge (or needs repair). Both rest on merge being a
// semilattice join: merge(v, all) = all exactly when v holds everything.

import { type VersionedValue, encodeVersionedValue, mergeVersionedValues } from '../versioning/versioned_value.ts';

/** The merge of every non-null version, or null when there is none. Throws ConflictModeMismatchError. */
export function mergeAll(versions: Iterable<VersionedValue | null>): VersionedValue | null {
  let out: VersionedValue | null = null;
  for (const v of versions) {
    if (v === null) continue;
    out = out === null ? v : mergeVersionedValues(out, v);
  }
  return out;
}

/** Whether two versions are the same (as stored: same writes, same dots, same history). */
export function sameVersion(a: VersionedValue | null, b: VersionedValue | null): boolean {
  return new VersionComparer(b).same(a);
}

/**
 * Compares versions with one target, encoding the target once: a read
 * compares every replica's reply with the merge of them all. A caller that
 * has the target's encoding already passes it.
 */
export class VersionComparer {
  constructor(
    private readonly target: VersionedValue | null,
    private targetBytes: Uint8Array | null = null,
  ) {}

  same(v: VersionedValue | null): boolean {
    if (v === this.target) return true;
    if (v === null || this.target === null) return false;
    this.targetBytes ??= encodeVersionedValue(this.target);
    const x = encodeVersionedValue(v);
    const y = this.targetBytes;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
}
