// The directory of a simulated disk: which name points at which file body
// (inode), in two versions. `current` is what the running process sees; the
// durable map is what is on the platter. Every create, rename and remove is
// logged as pending until a syncDir covering it completes. On a crash each
// pending operation is, by the seed, kept or reverted, replayed in order over
// the durable map; an operation whose precondition no longer holds there (a
// rename of a file whose creation was reverted) is reverted with it, so the
// result is always a directory some prefix-with-gaps of the operations could
// have produced, and every name points at a body that once had that name.

import { assert } from '../io/assert.ts';
import type { Rng } from '../io/rng.ts';

type DirOp<I> =
  | { kind: 'create'; seq: number; name: string; inode: I }
  | { kind: 'rename'; seq: number; from: string; to: string; inode: I }
  | { kind: 'remove'; seq: number; name: string; inode: I };

export class SimDirectory<I> {
  private current = new Map<string, I>();
  private durable = new Map<string, I>();
  private pending: DirOp<I>[] = [];
  private nextSeq = 1;

  get(name: string): I | undefined {
    return this.current.get(name);
  }

  getDurable(name: string): I | undefined {
    return this.durable.get(name);
  }

  /** Current names, sorted. */
  names(): string[] {
    return [...this.current.keys()].sort();
  }

  /** Durable names, sorted. */
  durableNames(): string[] {
    return [...this.durable.keys()].sort();
  }

  /** Number of directory operations not yet made durable. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Binds `name` to a new body; returns the body it replaced, if any. */
  create(name: string, inode: I): I | undefined {
    const replaced = this.current.get(name);
    this.current.set(name, inode);
    this.pending.push({ kind: 'create', seq: this.nextSeq++, name, inode });
    return replaced;
  }

  /** Moves `from` to `to`; returns the body `to` held before, if any. The caller checks `from` exists. */
  rename(from: string, to: string): I | undefined {
    const inode = this.current.get(from);
    assert(inode !== undefined, `SimDirectory.rename: ${from} does not exist`);
    assert(from !== to, 'SimDirectory.rename: from === to');
    const replaced = this.current.get(to);
    this.current.delete(from);
    this.current.set(to, inode);
    this.pending.push({ kind: 'rename', seq: this.nextSeq++, from, to, inode });
    return replaced;
  }

  remove(name: string): I {
    const inode = this.current.get(name);
    assert(inode !== undefined, `SimDirectory.remove: ${name} does not exist`);
    this.current.delete(name);
    this.pending.push({ kind: 'remove', seq: this.nextSeq++, name, inode });
    return inode;
  }

  /** A token for "every operation so far", to pass to makeDurableThrough when a syncDir completes. */
  syncPoint(): number {
    return this.nextSeq - 1;
  }

  makeDurableThrough(point: number): void {
    assert(point < this.nextSeq, 'SimDirectory.makeDurableThrough: point from the future');
    let i = 0;
    while (i < this.pending.length && this.pending[i]!.seq <= point) {
      const applied = SimDirectory.apply(this.durable, this.pending[i]!);
      assert(applied, `SimDirectory: pending op ${this.pending[i]!.seq} no longer applies in order`);
      i++;
    }
    this.pending.splice(0, i);
    if (this.pending.length === 0) this.assertDurableMatchesCurrent();
  }

  /** Keeps or reverts each pending operation by the rng; the durable result becomes current. */
  crash(rng: Rng): void {
    const next = new Map(this.durable);
    for (const op of this.pending) {
      if (rng.chance(0.5)) SimDirectory.apply(next, op);
    }
    this.pending = [];
    this.durable = next;
    this.current = new Map(next);
    const seen = new Set<I>();
    for (const inode of next.values()) {
      assert(!seen.has(inode), 'SimDirectory.crash: one body under two names');
      seen.add(inode);
    }
  }

  /** Applies `op` to `dir` if its precondition holds there; returns whether it did. */
  private static apply<I>(dir: Map<string, I>, op: DirOp<I>): boolean {
    switch (op.kind) {
      case 'create':
        dir.set(op.name, op.inode);
        return true;
      case 'rename':
        if (dir.get(op.from) !== op.inode) return false;
        dir.delete(op.from);
        dir.set(op.to, op.inode);
        return true;
      case 'remove':
        if (dir.get(op.name) !== op.inode) return false;
        dir.delete(op.name);
        return true;
    }
  }

  private assertDurableMatchesCurrent(): void {
    assert(this.durable.size === this.current.size, 'SimDirectory: durable and current differ in size with nothing pending');
    for (const [name, inode] of this.current) {
      assert(this.durable.get(name) === inode, `SimDirectory: ${name} differs between durable and current with nothing pending`);
    }
  }
}
