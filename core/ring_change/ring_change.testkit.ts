// Test doubles for range streaming: a replica store over a sorted map with the
// real LWW merge, manual timers, and a source that loses pages on demand.

import type { Timers, TimerId } from '../../io/timers.ts';
import { compareKeys } from '../storage/entry.ts';
import type { StoredRecord } from '../replication/replica_store.ts';
import { type VersionedValue, mergeVersionedValues, tombstoneWrite, valueWrite } from '../versioning/versioned_value.ts';

export function lww(wallMs: number, text: string | null, nodeId = 'w'): VersionedValue {
  const hlc = { wallMs, logical: 0, nodeId };
  return { mode: 'lww', write: text === null ? tombstoneWrite(hlc) : valueWrite(hlc, new TextEncoder().encode(text)) };
}

export function keyOf(i: number): Uint8Array {
  return new TextEncoder().encode(`k${String(i).padStart(5, '0')}`);
}

export class MapStore {
  private readonly records = new Map<string, StoredRecord>();
  private sorted = new Map<string, StoredRecord[]>();

  put(ks: string, key: Uint8Array, value: VersionedValue): void {
    const id = `${ks}/${Buffer.from(key).toString('hex')}`;
    const old = this.records.get(id);
    this.records.set(id, { ks, key, value: old === undefined ? value : mergeVersionedValues(old.value, value) });
    this.sorted.delete(ks);
  }

  get(ks: string, key: Uint8Array): VersionedValue | undefined {
    return this.records.get(`${ks}/${Buffer.from(key).toString('hex')}`)?.value;
  }

  all(ks: string): StoredRecord[] {
    let list = this.sorted.get(ks);
    if (list === undefined) {
      list = [...this.records.values()].filter((r) => r.ks === ks).sort((a, b) => compareKeys(a.key, b.key));
      this.sorted.set(ks, list);
    }
    return list;
  }

  /** ReplicaStore.scan's contract: start inclusive, key order, `more` when cut short. */
  scan = (ks: string, start: Uint8Array | undefined, _end: undefined, limit: number): { records: StoredRecord[]; more: boolean } => {
    const list = this.all(ks);
    let lo = 0;
    let hi = list.length;
    while (start !== undefined && lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(list[mid]!.key, start) < 0) lo = mid + 1;
      else hi = mid;
    }
    return { records: list.slice(lo, lo + limit), more: list.length > lo + limit };
  };
}

/** Timers run by hand, in (time, order) order. */
export class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly queue = new Map<TimerId, { at: number; fn: () => void }>();

  setTimer(delayMs: number, callback: () => void): TimerId {
    const id = this.next++;
    this.queue.set(id, { at: this.now + delayMs, fn: callback });
    return id;
  }

  cancelTimer(id: TimerId): void {
    this.queue.delete(id);
  }

  /** Runs timers until none is left or `steps` ran; returns how many ran. */
  run(steps = 1_000_000): number {
    let ran = 0;
    while (ran < steps && this.queue.size > 0) {
      let best: [TimerId, { at: number; fn: () => void }] | null = null;
      for (const e of this.queue) if (best === null || e[1].at < best[1].at || (e[1].at === best[1].at && e[0] < best[0])) best = e;
      this.queue.delete(best![0]);
      this.now = Math.max(this.now, best![1].at);
      best![1].fn();
      ran++;
    }
    return ran;
  }
}
