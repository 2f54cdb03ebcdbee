// The simulator's one priority queue, ordered by (time, sequence). The
// sequence number is the insertion order, so events at the same time run in
// the order they were scheduled and the run is a pure function of the seed.
//
// Layout, chosen because every simulated event passes through here: a 4-ary
// min-heap over two parallel Float64Arrays (time, id), so sifting touches no
// objects and allocates nothing; payloads sit in a slot array beside it. An
// id is `sequence * SLOTS + slot`: ordering ids orders sequences (the
// tie-break), and the slot finds a pending entry without a Map. Cancellation
// is lazy: the slot is freed at once (its id no longer matches), the heap
// entry stays and is skipped when it reaches the top; the heap is rebuilt
// when dead entries outnumber live ones four to one.

// Per-event checks throw AssertionError themselves: a template message passed to
// assert() would be built (numbers formatted) on every call, not only on failure.
import { AssertionError, assert } from '../io/assert.ts';

export type EventId = number;

export interface QueuedEvent<T> {
  readonly id: EventId;
  readonly timeMs: number;
  readonly payload: T;
}

/** Pending entries at most at once (slots); ids stay exact doubles up to 2^31 pushes. */
const SLOTS = 2 ** 22;
const MAX_SEQUENCE = 2 ** 31;
const ARITY = 4;
const INITIAL_CAPACITY = 256;

export class EventQueue<T> {
  private heapTime = new Float64Array(INITIAL_CAPACITY);
  private heapId = new Float64Array(INITIAL_CAPACITY);
  private heapLength = 0;
  /** Id of the entry holding each slot; 0 when the slot is free. */
  private slotId = new Float64Array(INITIAL_CAPACITY);
  private readonly payloads: (T | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private slotsUsed = 0;
  private live = 0;
  private nextSequence = 1;
  private lastTime = 0;
  private lastId: EventId = 0;

  /** Number of events that will still be returned by pop(). */
  get size(): number {
    return this.live;
  }

  push(timeMs: number, payload: T): EventId {
    if (!Number.isFinite(timeMs)) throw new AssertionError(`EventQueue.push: time must be finite, got ${timeMs}`);
    assert(payload !== undefined, 'EventQueue.push: payload is undefined');
    const sequence = this.nextSequence++;
    assert(sequence < MAX_SEQUENCE, 'EventQueue: sequence numbers exhausted');
    let slot: number;
    if (this.freeSlots.length > 0) slot = this.freeSlots.pop()!;
    else {
      slot = this.slotsUsed++;
      if (slot >= SLOTS) throw new AssertionError(`EventQueue: more than ${SLOTS} pending events`);
      if (slot === this.slotId.length) this.slotId = grow(this.slotId);
    }
    const id = sequence * SLOTS + slot;
    this.slotId[slot] = id;
    this.payloads[slot] = payload;
    if (this.heapLength === this.heapTime.length) {
      this.heapTime = grow(this.heapTime);
      this.heapId = grow(this.heapId);
    }
    this.siftUp(this.heapLength++, timeMs, id);
    this.live++;
    return id;
  }

  /** Returns whether the event was pending; cancelling a popped or unknown id is a no-op. */
  cancel(id: EventId): boolean {
    if (!this.isPending(id)) return false;
    this.freeSlot(id % SLOTS);
    // Keep the heap from filling with dead entries when most events get cancelled.
    if (this.heapLength > 64 && this.heapLength > 4 * this.live) this.compact();
    return true;
  }

  isPending(id: EventId): boolean {
    if (!Number.isInteger(id) || id < SLOTS) return false;
    const slot = id % SLOTS;
    return slot < this.slotsUsed && this.slotId[slot] === id;
  }

  /** The payload of a pending event; undefined once it was popped or cancelled (or for an unknown id). */
  payloadOf(id: EventId): T | undefined {
    return this.isPending(id) ? this.payloads[id % SLOTS] : undefined;
  }

  /** Time of the next live event, without removing it. */
  peekTime(): number | undefined {
    this.dropDeadTop();
    return this.heapLength > 0 ? this.heapTime[0] : undefined;
  }

  pop(): QueuedEvent<T> | undefined {
    const payload = this.popPayload();
    return payload === undefined ? undefined : { id: this.lastId, timeMs: this.lastTime, payload };
  }

  /**
   * The next event's payload (undefined when empty), without building a
   * QueuedEvent; its time and id are then `poppedTimeMs` and `poppedId`.
   * Payloads must not be undefined for this to tell "empty" apart.
   */
  popPayload(): T | undefined {
    this.dropDeadTop();
    if (this.heapLength === 0) return undefined;
    const id = this.heapId[0]!;
    this.lastTime = this.heapTime[0]!;
    this.lastId = id;
    this.removeTop();
    const slot = id % SLOTS;
    const payload = this.payloads[slot];
    assert(payload !== undefined, 'EventQueue: queued payload is undefined');
    this.freeSlot(slot);
    return payload;
  }

  /** Time of the event popPayload (or pop) last returned. */
  get poppedTimeMs(): number {
    return this.lastTime;
  }

  /** Id of the event popPayload (or pop) last returned. */
  get poppedId(): EventId {
    return this.lastId;
  }

  private freeSlot(slot: number): void {
    this.slotId[slot] = 0;
    this.payloads[slot] = undefined;
    this.freeSlots.push(slot);
    this.live--;
    assert(this.live >= 0, 'EventQueue: live count below zero');
  }

  /** Removes cancelled entries from the top of the heap. */
  private dropDeadTop(): void {
    while (this.heapLength > 0) {
      const id = this.heapId[0]!;
      if (this.slotId[id % SLOTS] === id) return;
      this.removeTop();
    }
  }

  private removeTop(): void {
    const n = --this.heapLength;
    if (n > 0) this.siftDown(0, this.heapTime[n]!, this.heapId[n]!);
  }

  private compact(): void {
    const times = this.heapTime;
    const ids = this.heapId;
    let kept = 0;
    for (let i = 0; i < this.heapLength; i++) {
      const id = ids[i]!;
      if (this.slotId[id % SLOTS] !== id) continue;
      times[kept] = times[i]!;
      ids[kept] = id;
      kept++;
    }
    assert(kept === this.live, 'EventQueue.compact: live count mismatch');
    this.heapLength = kept;
    for (let i = Math.floor((kept - 2) / ARITY); i >= 0; i--) this.siftDown(i, times[i]!, ids[i]!);
  }

  /** Places (time, id) at hole `i` or above it. */
  private siftUp(i: number, time: number, id: number): void {
    const times = this.heapTime;
    const ids = this.heapId;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const pt = times[parent]!;
      if (pt < time || (pt === time && ids[parent]! < id)) break;
      times[i] = pt;
      ids[i] = ids[parent]!;
      i = parent;
    }
    times[i] = time;
    ids[i] = id;
  }

  /** Places (time, id) at hole `i` or below it. */
  private siftDown(i: number, time: number, id: number): void {
    const times = this.heapTime;
    const ids = this.heapId;
    const n = this.heapLength;
    for (;;) {
      const first = i * ARITY + 1;
      if (first >= n) break;
      let best = first;
      let bt = times[first]!;
      let bid = ids[first]!;
      const end = Math.min(first + ARITY, n);
      for (let c = first + 1; c < end; c++) {
        const ct = times[c]!;
        if (ct < bt || (ct === bt && ids[c]! < bid)) {
          best = c;
          bt = ct;
          bid = ids[c]!;
        }
      }
      if (time < bt || (time === bt && id < bid)) break;
      times[i] = bt;
      ids[i] = bid;
      i = best;
    }
    times[i] = time;
    ids[i] = id;
  }
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
