// The simulator's one priority queue: a binary min-heap ordered by
// (time, sequence). The sequence number is the insertion order, so events at
// the same time run in the order they were scheduled and the run is a pure
// function of the seed. Cancellation is lazy: a cancelled entry stays in the
// heap, marked, and is skipped when it reaches the top.

import { assert } from '../io/assert.ts';

export type EventId = number;

export interface QueuedEvent<T> {
  readonly id: EventId;
  readonly timeMs: number;
  readonly payload: T;
}

interface Entry<T> {
  id: EventId;
  timeMs: number;
  payload: T;
  cancelled: boolean;
}

export class EventQueue<T> {
  private readonly heap: Entry<T>[] = [];
  /** Entries not yet popped nor cancelled, by id. */
  private readonly live = new Map<EventId, Entry<T>>();
  private nextId: EventId = 1;

  /** Number of events that will still be returned by pop(). */
  get size(): number {
    return this.live.size;
  }

  push(timeMs: number, payload: T): EventId {
    assert(Number.isFinite(timeMs), `EventQueue.push: time must be finite, got ${timeMs}`);
    const entry: Entry<T> = { id: this.nextId++, timeMs, payload, cancelled: false };
    this.heap.push(entry);
    this.live.set(entry.id, entry);
    this.siftUp(this.heap.length - 1);
    return entry.id;
  }

  /** Returns whether the event was pending; cancelling a popped or unknown id is a no-op. */
  cancel(id: EventId): boolean {
    const entry = this.live.get(id);
    if (entry === undefined) return false;
    entry.cancelled = true;
    this.live.delete(id);
    // Keep the heap from filling with dead entries when most events get cancelled.
    if (this.heap.length > 64 && this.heap.length > 4 * this.live.size) this.compact();
    return true;
  }

  isPending(id: EventId): boolean {
    return this.live.has(id);
  }

  /** Time of the next live event, without removing it. */
  peekTime(): number | undefined {
    this.dropCancelledTop();
    return this.heap.length > 0 ? this.heap[0]!.timeMs : undefined;
  }

  pop(): QueuedEvent<T> | undefined {
    this.dropCancelledTop();
    if (this.heap.length === 0) return undefined;
    const top = this.removeTop();
    assert(!top.cancelled, 'EventQueue.pop: cancelled entry at top');
    this.live.delete(top.id);
    return top;
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.removeTop();
  }

  private removeTop(): Entry<T> {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private compact(): void {
    const kept = this.heap.filter((e) => !e.cancelled);
    assert(kept.length === this.live.size, 'EventQueue.compact: live count mismatch');
    this.heap.length = 0;
    for (const e of kept) this.heap.push(e);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private static before<T>(a: Entry<T>, b: Entry<T>): boolean {
    return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.id < b.id);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!EventQueue.before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && EventQueue.before(heap[right]!, heap[left]!) ? right : left;
      if (!EventQueue.before(heap[child]!, entry)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  }
}
