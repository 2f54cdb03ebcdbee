/**
 * The simulated network: io/network.ts endpoints for every simulated node,
 * moving frames with the faults of packet_fault_options.ts, all decided by a
 * seeded stream, so a seed replays the same deliveries.
 *
 * A send copies the frame (a sender reusing its buffer cannot change what
 * arrives) and decides its fate at once: dropped (sender down, unknown
 * destination, partition, loss, path full) or in flight with a drawn delay,
 * plus possibly a replayed copy with its own delay. Each copy in flight is a
 * "flight": an event bound to the destination's incarnation. Without
 * fifoPerLink, random delays reorder frames of one link.
 *
 * Crashes and restarts: a node that is down at a flight's arrival time never
 * sees it (the simulator drops events of a dead incarnation). A flight sent
 * before a crash (or while the node was down) that arrives after the node
 * restarted is delivered to the new incarnation, as a real network may do:
 * protocols must tolerate messages from before their own restart. The
 * network is not told of crashes: a flight whose event the simulator popped
 * without running it (Simulator.isPending turned false) was lost to a down
 * node, counted when the node restarts or stats() / inFlight() / a send look.
 *
 * At arrival a flight is checked against the partitions again (frames in
 * flight when a partition starts are lost) and must be exactly one frame of
 * the real codec (io/frame_codec.ts: length, checksum, one msgpack value;
 * frame_arrival_check.ts walks it without decoding, so the node's decode is
 * the only one); a frame that is not is a codec bug, reported as a crash of
 * the run, never delivered.
 *
 * Clogged paths hold frames without losing them: when a path clogs, its
 * flights are moved to the clog's end, in send order.
 *
 * Automatic faults (random partitions, clogs) are decided by a world event
 * every faultTickMs, which exists only while one is enabled: with them on,
 * the queue never empties, so bound the run (untilMs) or quiesce() first.
 * Trace lines: every send (with its fate), delivery and drop, and every
 * fault change; frames lost to a down node are not traced (the network
 * learns of them only when it looks, and looking must not change the trace).
 */

// Per-event checks throw AssertionError themselves: a template message passed to
// assert() would be built (numbers formatted) on every call, not only on failure.
import { AssertionError, assert } from '../io/assert.ts';
import type { Network, NodeId } from '../io/network.ts';
import type { EventId } from './event_queue.ts';
import { checkFrameInFlight } from './frame_arrival_check.ts';
import { Flight, type Link, LinkTable, delayReaching } from './network_links.ts';
import { NetworkPartitions, applyRandomPartition } from './network_partitions.ts';
import {
  DEFAULT_PACKET_FAULT_OPTIONS,
  type LinkFaultOptions,
  type PacketFaultOptions,
  drawOneWayDelayMs,
  hasAutomaticFaults,
  quiescedOptions,
  validateLinkFaults,
  validatePacketFaultOptions,
} from './packet_fault_options.ts';
import type { SimRng } from './sim_rng.ts';
import type { SimNode, Simulator } from './simulator.ts';

export { FrameInFlightError } from './frame_arrival_check.ts';

export type DropReason = 'senderDown' | 'unknownNode' | 'partition' | 'loss' | 'capacity' | 'down' | 'noHandler';

export interface NetworkStats {
  /** Calls to send. */
  sent: number;
  /** Extra copies made by replay. */
  duplicated: number;
  delivered: number;
  dropped: Record<DropReason, number>;
  bytesSent: number;
  bytesDelivered: number;
}

/** What the network needs from the simulator (the Simulator itself). */
export type SimNetworkHost = Pick<Simulator, 'rng' | 'nowMs' | 'schedule' | 'scheduleOnNodeWith' | 'cancel' | 'isPending' | 'isUp' | 'trace' | 'traceFrame'>;

type FrameHandler = (from: NodeId, frame: Uint8Array) => void;

/** One incarnation's endpoint; a restarted node gets a new one. */
class Endpoint implements Network {
  handler: FrameHandler | null = null;

  constructor(
    readonly nodeId: string,
    readonly incarnation: number,
    private readonly sendFrom: (endpoint: Endpoint, to: NodeId, frame: Uint8Array) => void,
  ) {}

  send(to: NodeId, frame: Uint8Array): void {
    this.sendFrom(this, to, frame);
  }

  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }
}

/**
 * Copies of frames, packed into shared 16 KiB chunks and handed out as views:
 * a slice per frame allocates a backing store outside the heap (~0.3 us),
 * a view of a chunk ~0.05 us. A region is never written again once handed
 * out; a chunk lives as long as any frame (or view of one a node kept) in it.
 */
class FrameCopies {
  private static readonly CHUNK_BYTES = 16 * 1024;
  private chunk = new Uint8Array(FrameCopies.CHUNK_BYTES);
  private used = 0;

  copy(frame: Uint8Array): Uint8Array {
    const n = frame.length;
    if (n > FrameCopies.CHUNK_BYTES / 4) return frame.slice();
    if (this.used + n > this.chunk.length) {
      this.chunk = new Uint8Array(FrameCopies.CHUNK_BYTES);
      this.used = 0;
    }
    const at = this.used;
    this.chunk.set(frame, at);
    this.used = at + n;
    return new Uint8Array(this.chunk.buffer, at, n);
  }
}

/** Trace kinds of drops, built once rather than per dropped frame. */
const DROP_KINDS: Record<DropReason, string> = {
  senderDown: 'drop senderDown',
  unknownNode: 'drop unknownNode',
  partition: 'drop partition',
  loss: 'drop loss',
  capacity: 'drop capacity',
  down: 'drop down',
  noHandler: 'drop noHandler',
};

const noDrops = (): Record<DropReason, number> => ({ senderDown: 0, unknownNode: 0, partition: 0, loss: 0, capacity: 0, down: 0, noHandler: 0 });

export class SimNetwork {
  private opts: PacketFaultOptions;
  /** Bumped by setFaults/setLinkFaults/quiesce so links recompute their effective faults. */
  private optsVersion = 0;
  private readonly partitions = new NetworkPartitions();
  /** Per-frame draws (delay, loss, replay) and fault-tick draws come from separate streams. */
  private readonly frameRng: SimRng;
  private readonly faultRng: SimRng;
  /** Current endpoint per node, in registration order. */
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly links = new LinkTable(() => this.opts);
  private nextFrameId = 1;
  /** Where the copies of frames in flight live. */
  private readonly copies = new FrameCopies();
  private flightsInFlight = 0;
  private readonly counters: NetworkStats = { sent: 0, duplicated: 0, delivered: 0, dropped: noDrops(), bytesSent: 0, bytesDelivered: 0 };
  private tickEvent: EventId | null = null;
  private autoPartitionSince = 0;
  private lastAutoHealAt = Number.NEGATIVE_INFINITY;
  private corruptPending = 0;
  /** arrive() bound once: every delivery event calls it with its flight. */
  private readonly arriveFlight = (flight: Flight): void => this.arrive(flight);

  /** Creates the network and connects every node of `sim` to it, now and after restarts. */
  static attach(sim: Simulator, options: Partial<PacketFaultOptions> = {}): SimNetwork {
    const net = new SimNetwork(sim, options);
    sim.attachNetwork((node) => net.endpoint(node));
    return net;
  }

  constructor(
    private readonly host: SimNetworkHost,
    options: Partial<PacketFaultOptions> = {},
  ) {
    this.opts = { ...DEFAULT_PACKET_FAULT_OPTIONS, ...options };
    validatePacketFaultOptions(this.opts);
    this.frameRng = host.rng.fork('network');
    this.faultRng = host.rng.fork('network-faults');
    this.syncTick();
  }

  /** The NetworkFactory for Simulator.attachNetwork: the endpoint of one incarnation. */
  endpoint(node: SimNode): Network {
    const previous = this.endpoints.get(node.id);
    assert(previous === undefined || node.incarnation > previous.incarnation, `SimNetwork: endpoint of ${node.id} incarnation ${node.incarnation} built twice`);
    const endpoint = new Endpoint(node.id, node.incarnation, (ep, to, frame) => this.sendFrom(ep, to, frame));
    this.endpoints.set(node.id, endpoint);
    if (previous !== undefined) this.rebindFlightsTo(node.id);
    return endpoint;
  }

  // ---- faults ----

  /** The global options in force. */
  options(): Readonly<PacketFaultOptions> {
    return this.opts;
  }

  /** Changes global options (the rest stay); automatic faults start or stop accordingly. */
  setFaults(options: Partial<PacketFaultOptions>): void {
    const next = { ...this.opts, ...options };
    validatePacketFaultOptions(next);
    this.opts = next;
    this.optsVersion++;
    for (const link of this.links.all()) if (link.overrides !== null) this.checkLinkFaults(link);
    this.host.trace(`net faults ${JSON.stringify(options)}`);
    this.syncTick();
  }

  /** Overrides faults of the directed link from→to (merged over earlier overrides); null removes them. */
  setLinkFaults(from: string, to: string, options: Partial<LinkFaultOptions> | null): void {
    const link = this.link(from, to);
    link.overrides = options === null ? null : { ...link.overrides, ...options };
    link.faultsVersion = -1;
    this.checkLinkFaults(link);
    this.host.trace(`net link-faults ${from}>${to} ${JSON.stringify(options)}`);
  }

  /** Every fault off for a liveness phase: partitions healed, clogs cleared, link overrides removed, loss/replay/reorder zero, no automatic faults. */
  quiesce(): void {
    this.opts = quiescedOptions(this.opts);
    this.optsVersion++;
    this.partitions.heal();
    for (const link of this.links.all()) {
      link.overrides = null;
      if (link.clogUntil > this.host.nowMs()) this.unclog(link);
    }
    this.host.trace('net quiesce');
    this.syncTick();
  }

  /** Symmetric partition: no frames between nodes of different groups (nodes in no group are unaffected). */
  partition(groups: readonly (readonly string[])[]): void {
    this.partitions.partition(groups);
    this.host.trace(`net partition ${groups.map((g) => g.join(',')).join(' | ')}`);
  }

  /** Frames from any of `from` to any of `to` are dropped; the reverse direction flows. */
  partitionOneWay(from: readonly string[], to: readonly string[]): void {
    this.partitions.partitionOneWay(from, to);
    this.host.trace(`net partition-one-way ${from.join(',')} -> ${to.join(',')}`);
  }

  /** Cuts `node` off from every other node, both ways. */
  isolate(node: string): void {
    this.partitions.isolate(node);
    this.host.trace(`net isolate ${node}`);
  }

  /** Removes every partition, manual and automatic. */
  heal(): void {
    this.partitions.heal();
    this.lastAutoHealAt = this.host.nowMs();
    this.host.trace('net heal');
  }

  /** Whether a frame sent now from→to could pass the partitions. */
  canReach(from: string, to: string): boolean {
    return !this.partitions.blocks(from, to);
  }

  /** Partitions in force, readable. */
  describePartitions(): string[] {
    return this.partitions.describe();
  }

  /** Holds every frame on the directed path from→to for `durationMs` (none is lost). */
  clog(from: string, to: string, durationMs: number): void {
    assert(Number.isFinite(durationMs) && durationMs >= 0, `clog: bad duration ${durationMs}`);
    this.clogLink(this.link(from, to), durationMs);
  }

  /** Test hook: flips one random bit of the next frame put in flight, which the arrival check must catch. */
  corruptNextFrame(): void {
    this.corruptPending++;
  }

  // ---- observation ----

  stats(): NetworkStats {
    this.settleAllDown();
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** Frames (copies) that may still arrive. */
  inFlight(): number {
    this.settleAllDown();
    return this.flightsInFlight;
  }

  // ---- sending ----

  private sendFrom(endpoint: Endpoint, to: NodeId, frame: Uint8Array): void {
    if (!(frame instanceof Uint8Array)) throw new AssertionError(`send from ${endpoint.nodeId}: frame is not a Uint8Array`);
    const from = endpoint.nodeId;
    const id = this.nextFrameId++;
    this.counters.sent++;
    this.counters.bytesSent += frame.length;
    if (this.endpoints.get(from) !== endpoint || !this.host.isUp(from)) return this.drop(id, from, to, frame.length, 'senderDown');
    if (!this.endpoints.has(to)) return this.drop(id, from, to, frame.length, 'unknownNode');
    const link = this.link(from, to);
    if (this.isBlocked(link)) return this.drop(id, from, to, frame.length, 'partition');
    const faults = this.linkFaults(link);
    if (this.frameRng.chance(faults.packetLossProbability)) return this.drop(id, from, to, frame.length, 'loss');
    this.launch(id, link, faults, this.copies.copy(frame), 0);
    if (this.frameRng.chance(faults.packetReplayProbability)) {
      const copy = this.nextFrameId++;
      this.counters.duplicated++;
      if (this.frameRng.chance(faults.packetLossProbability)) return this.drop(copy, from, to, frame.length, 'loss');
      this.launch(copy, link, faults, this.copies.copy(frame), id);
    }
  }

  /** Puts one copy in flight; `replayOf` is the id of the frame it duplicates, 0 for the original. */
  private launch(id: number, link: Link, faults: LinkFaultOptions, bytes: Uint8Array, replayOf: number): void {
    if (link.flights.size >= faults.pathMaximumCapacity) this.settleDown(link.to);
    if (link.flights.size >= faults.pathMaximumCapacity) return this.drop(id, link.from, link.to, bytes.length, 'capacity');
    const now = this.host.nowMs();
    let delay = drawOneWayDelayMs(this.frameRng, faults);
    if (this.frameRng.chance(faults.packetReorderProbability)) delay += this.frameRng.between(0, faults.oneWayDelayMaxMs);
    let target = Math.max(now + delay, link.clogUntil);
    if (this.opts.fifoPerLink) target = Math.max(target, link.lastDeliverAt);
    if (this.corruptPending > 0) {
      this.corruptPending--;
      if (bytes.length > 0) {
        const bit = this.frameRng.int(bytes.length * 8);
        bytes[bit >> 3]! ^= 1 << (bit & 7);
      }
    }
    const flight = new Flight(id, link, bytes);
    link.flights.add(flight);
    this.flightsInFlight++;
    this.schedule(flight, target);
    this.host.traceFrame('send', link.from, link.to, id, bytes.length, replayOf);
  }

  private schedule(flight: Flight, target: number): void {
    const now = this.host.nowMs();
    const delay = delayReaching(now, target);
    flight.deliverAt = now + delay;
    flight.event = this.host.scheduleOnNodeWith(flight.link.to, delay, 'net deliver', this.arriveFlight, flight);
    if (flight.deliverAt > flight.link.lastDeliverAt) flight.link.lastDeliverAt = flight.deliverAt;
  }

  private arrive(flight: Flight): void {
    const { link, id, bytes } = flight;
    if (!flight.onLink) throw new AssertionError(`net: flight #${id} arrived but is not in flight`);
    if (link.clogUntil > this.host.nowMs()) throw new AssertionError(`net: flight #${id} arrived on a clogged path`);
    link.flights.remove(flight);
    this.flightsInFlight--;
    checkFrameInFlight(bytes, () => `frame #${id} ${link.from}>${link.to} (${bytes.length} B)`);
    if (this.isBlocked(link)) return this.drop(id, link.from, link.to, bytes.length, 'partition');
    const endpoint = this.endpoints.get(link.to)!;
    if (!this.host.isUp(link.to)) throw new AssertionError(`net: flight #${id} arrived at ${link.to} while it is down`);
    if (endpoint.handler === null) return this.drop(id, link.from, link.to, bytes.length, 'noHandler');
    this.counters.delivered++;
    this.counters.bytesDelivered += bytes.length;
    this.host.traceFrame('deliver', link.from, link.to, id, -1, 0);
    endpoint.handler(link.from, bytes);
  }

  private drop(id: number, from: string, to: string, bytes: number, reason: DropReason): void {
    this.counters.dropped[reason]++;
    this.host.traceFrame(DROP_KINDS[reason], from, to, id, bytes, 0);
  }

  // ---- crashes ----

  /** Flights whose event the simulator popped without running it (the destination was down) are lost: count them. */
  private settleDown(nodeId: string): void {
    if (this.host.isUp(nodeId)) return;
    for (const link of this.links.to(nodeId)) {
      for (const flight of link.flights.toArray()) {
        if (!this.host.isPending(flight.event)) this.forget(flight);
      }
    }
  }

  private settleAllDown(): void {
    for (const nodeId of this.endpoints.keys()) this.settleDown(nodeId);
  }

  /** A node restarted: flights still on their way go to the new incarnation; the ones that arrived while it was down are lost. */
  private rebindFlightsTo(nodeId: string): void {
    for (const link of this.links.to(nodeId)) {
      for (const flight of link.flights.toArray()) {
        if (!this.host.isPending(flight.event)) {
          this.forget(flight);
        } else {
          this.host.cancel(flight.event);
          this.schedule(flight, flight.deliverAt);
        }
      }
    }
  }

  /** A flight lost because its destination was down at arrival (no trace line: the network learns of it lazily, and observing must not change the trace). */
  private forget(flight: Flight): void {
    flight.link.flights.remove(flight);
    this.flightsInFlight--;
    this.counters.dropped.down++;
  }

  // ---- automatic faults ----

  /** Runs the fault tick exactly while some automatic fault is enabled. */
  private syncTick(): void {
    const wanted = hasAutomaticFaults(this.opts);
    if (wanted && this.tickEvent === null) {
      this.tickEvent = this.host.schedule(this.opts.faultTickMs, 'net faults', () => this.tick());
    } else if (!wanted && this.tickEvent !== null) {
      this.host.cancel(this.tickEvent);
      this.tickEvent = null;
    }
    if (!wanted && this.partitions.healAutomatic()) this.host.trace('net auto-heal');
  }

  private tick(): void {
    this.tickEvent = null;
    const now = this.host.nowMs();
    const o = this.opts;
    const rng = this.faultRng;
    if (this.partitions.hasAutomatic()) {
      if (now - this.autoPartitionSince >= o.partitionStabilityMs && rng.chance(o.unpartitionProbability)) {
        this.partitions.healAutomatic();
        this.lastAutoHealAt = now;
        this.host.trace('net auto-heal');
      }
    } else if (o.partitionMode !== 'none' && now - this.lastAutoHealAt >= o.unpartitionStabilityMs && rng.chance(o.partitionProbability)) {
      const made = applyRandomPartition(this.partitions, rng, [...this.endpoints.keys()], o.partitionMode, o.partitionSymmetry);
      if (made !== null) {
        this.autoPartitionSince = now;
        this.host.trace(`net auto-partition ${made}`);
      }
    }
    if (o.pathClogProbability > 0) {
      for (const from of this.endpoints.keys()) {
        for (const to of this.endpoints.keys()) {
          if (from === to) continue;
          const link = this.link(from, to);
          if (link.clogUntil <= now && rng.chance(o.pathClogProbability)) this.clogLink(link, rng.exponential(o.pathClogDurationMeanMs));
        }
      }
    }
    this.syncTick();
  }

  private clogLink(link: Link, durationMs: number): void {
    const now = this.host.nowMs();
    const until = now + durationMs;
    if (until <= link.clogUntil) return;
    link.clogUntil = until;
    this.host.trace(`net clog ${link.from}>${link.to} until ${until}`);
    this.settleDown(link.to);
    for (const flight of link.flights.toArray()) {
      if (flight.deliverAt < until) {
        this.host.cancel(flight.event);
        this.schedule(flight, until);
      }
    }
  }

  /** Ends a clog now: held flights arrive now, in send order (their drawn delays were spent waiting). */
  private unclog(link: Link): void {
    const now = this.host.nowMs();
    const until = link.clogUntil;
    link.clogUntil = now;
    this.settleDown(link.to);
    for (const flight of link.flights.toArray()) {
      if (flight.deliverAt <= until) {
        this.host.cancel(flight.event);
        this.schedule(flight, now);
      }
    }
  }

  // ---- links ----

  private link(from: string, to: string): Link {
    return this.links.get(from, to);
  }

  private checkLinkFaults(link: Link): void {
    const faults = this.effectiveFaults(link);
    validateLinkFaults(faults);
    assert(!(this.opts.fifoPerLink && faults.packetReorderProbability > 0), `link ${link.from}>${link.to}: fifoPerLink excludes packetReorderProbability > 0`);
  }

  private effectiveFaults(link: Link): LinkFaultOptions {
    return link.overrides === null ? this.opts : { ...this.opts, ...link.overrides };
  }

  private linkFaults(link: Link): LinkFaultOptions {
    if (link.faultsVersion !== this.optsVersion) {
      link.faults = this.effectiveFaults(link);
      link.faultsVersion = this.optsVersion;
    }
    return link.faults;
  }

  private isBlocked(link: Link): boolean {
    if (link.blockedVersion !== this.partitions.version) {
      link.blocked = this.partitions.blocks(link.from, link.to);
      link.blockedVersion = this.partitions.version;
    }
    return link.blocked;
  }
}
