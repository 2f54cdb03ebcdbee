// The directed links of the simulated network and the frames in flight on
// them. A link exists once something was sent on it (or a fault set on it);
// its flights are kept in send order, which clogs and restarts rely on to
// move them without reordering a FIFO link.

import { assert } from '../io/assert.ts';
import type { EventId } from './event_queue.ts';
import type { LinkFaultOptions } from './packet_fault_options.ts';

/** One copy of a frame on its way: an event bound to the destination's incarnation. */
export class Flight {
  /** The simulated time of its delivery event. */
  deliverAt = 0;
  event: EventId = 0;
  /** Neighbours in its link's FlightList while it is on one. */
  prev: Flight | null = null;
  next: Flight | null = null;
  onLink = false;

  constructor(
    readonly id: number,
    readonly link: Link,
    readonly bytes: Uint8Array,
  ) {}
}

/**
 * A link's flights in send order: a doubly linked list through the flights
 * themselves. Every frame is added once and removed once, so this avoids a
 * Map whose table grows and shrinks (allocating) as frames come and go.
 */
export class FlightList {
  private head: Flight | null = null;
  private tail: Flight | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(flight: Flight): void {
    assert(!flight.onLink, 'FlightList.add: flight already on a link');
    flight.onLink = true;
    flight.prev = this.tail;
    flight.next = null;
    if (this.tail === null) this.head = flight;
    else this.tail.next = flight;
    this.tail = flight;
    this.count++;
  }

  remove(flight: Flight): void {
    assert(flight.onLink, 'FlightList.remove: flight not on a link');
    if (flight.prev === null) this.head = flight.next;
    else flight.prev.next = flight.next;
    if (flight.next === null) this.tail = flight.prev;
    else flight.next.prev = flight.prev;
    flight.prev = null;
    flight.next = null;
    flight.onLink = false;
    this.count--;
    assert(this.count >= 0, 'FlightList: negative size');
  }

  /** The flights in send order, copied: callers may remove or reschedule while going through them. */
  toArray(): Flight[] {
    const out: Flight[] = [];
    for (let f = this.head; f !== null; f = f.next) out.push(f);
    assert(out.length === this.count, 'FlightList: size disagrees with its links');
    return out;
  }
}

export interface Link {
  readonly from: string;
  readonly to: string;
  /** In flight on this link, in send order. */
  readonly flights: FlightList;
  overrides: Partial<LinkFaultOptions> | null;
  /** Effective faults, cached; recomputed when `faultsVersion` lags the network's. */
  faults: LinkFaultOptions;
  faultsVersion: number;
  /** Whether partitions block it, cached against the partitions' version. */
  blocked: boolean;
  blockedVersion: number;
  /** Frames wait until this time (0: never clogged). */
  clogUntil: number;
  /** Latest delivery time scheduled, for fifoPerLink. */
  lastDeliverAt: number;
}

export class LinkTable {
  private readonly byFrom = new Map<string, Map<string, Link>>();

  constructor(private readonly initialFaults: () => LinkFaultOptions) {}

  get(from: string, to: string): Link {
    let byTo = this.byFrom.get(from);
    if (byTo === undefined) {
      byTo = new Map();
      this.byFrom.set(from, byTo);
    }
    let link = byTo.get(to);
    if (link === undefined) {
      link = {
        from,
        to,
        flights: new FlightList(),
        overrides: null,
        faults: this.initialFaults(),
        faultsVersion: -1,
        blocked: false,
        blockedVersion: -1,
        clogUntil: 0,
        lastDeliverAt: 0,
      };
      byTo.set(to, link);
    }
    return link;
  }

  *all(): Iterable<Link> {
    for (const byTo of this.byFrom.values()) yield* byTo.values();
  }

  *to(nodeId: string): Iterable<Link> {
    for (const byTo of this.byFrom.values()) {
      const link = byTo.get(nodeId);
      if (link !== undefined) yield link;
    }
  }
}

/** The delay d such that the simulator's `now + d` is not before `target` (float rounding could land one ulp early and break FIFO ties). */
export function delayReaching(now: number, target: number): number {
  let d = Math.max(0, target - now);
  while (now + d < target) d += Math.max(Number.MIN_VALUE, Math.abs(target) * Number.EPSILON);
  return d;
}
