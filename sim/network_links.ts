// The directed links of the simulated network and the frames in flight on
// them. A link exists once something was sent on it (or a fault set on it);
// its flights are kept in send order, which clogs and restarts rely on to
// move them without reordering a FIFO link.

import type { EventId } from './event_queue.ts';
import type { LinkFaultOptions } from './packet_fault_options.ts';

/** One copy of a frame on its way: an event bound to the destination's incarnation. */
export interface Flight {
  readonly id: number;
  readonly link: Link;
  readonly bytes: Uint8Array;
  /** The simulated time of its delivery event. */
  deliverAt: number;
  event: EventId;
}

export interface Link {
  readonly from: string;
  readonly to: string;
  /** In flight on this link, in send order (a Map iterates in insertion order). */
  readonly flights: Map<number, Flight>;
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
        flights: new Map(),
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
