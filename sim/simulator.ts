/**
 * The simulated world: one event queue, true time, the root seeded rng, and
 * the nodes (each with its own SimClock, SimTimers, SimDisk and Env).
 *
 * Event loop: `run` pops the event with the smallest (time, sequence), sets
 * true time to its time, folds (time, node, kind) into the trace hash and calls
 * it. Nothing runs concurrently and nothing else advances time, so a run is a
 * pure function of the seed. Events are either world events (fault injection,
 * workload) or bound to one incarnation of one node (its timers, its disk
 * completions, frames delivered to it). `maxEvents`/`untilMs` bound a run so a
 * livelock cannot hang a test; with periodic timers the queue never empties.
 *
 * Crash: the node goes down, every pending event bound to its incarnation is
 * dropped (lazily, when it reaches the top of the queue), and its disk keeps,
 * loses or tears unsynced data by the node's crash rng (see sim_disk.ts). A
 * node's own event that asks to crash it takes effect when that event returns.
 * Restart: a new incarnation with fresh timers and Env over the same disk and
 * clock; the caller rebuilds its state machines from the disk.
 */

// Per-event checks throw AssertionError themselves: a template message passed to
// assert() would be built (numbers formatted) on every call, not only on failure.
import { AssertionError, assert } from '../io/assert.ts';
import type { Buggify } from '../io/buggify.ts';
import { buggifyOff } from '../io/buggify.ts';
import type { Env } from '../io/env.ts';
import type { Network, NodeId } from '../io/network.ts';
import { type EventId, EventQueue } from './event_queue.ts';
import { SimClock } from './sim_clock.ts';
import { SimDisk, type SimDiskOptions } from './sim_disk.ts';
import { type Seed, SimRng } from './sim_rng.ts';
import { SimTimers } from './sim_timers.ts';
import { Trace } from './trace.ts';

export type { SimDiskOptions } from './sim_disk.ts';

export interface SimulatorOptions {
  seed: Seed;
  /** Switch on buggify: each site is enabled or not once per run (a coin on the seed), and an enabled site fires rarely. */
  buggify?: boolean;
  /** Probability that an enabled buggify site fires on a call; default 0.05. */
  buggifyFireProbability?: number;
  /** Keep this many latest trace lines readable, to diff two runs; default 0. */
  traceKeepLines?: number;
}

export interface AddNodeOptions {
  clockSkewMs?: number;
  clockDriftPpm?: number;
  disk?: SimDiskOptions;
}

export interface RunLimits {
  maxEvents?: number;
  untilMs?: number;
}

export interface SimNode {
  readonly id: string;
  readonly env: Env;
  readonly disk: SimDisk;
  readonly clock: SimClock;
  readonly timers: SimTimers;
  /** The same stream as env.rng, with the SimRng helpers. */
  readonly rng: SimRng;
  readonly incarnation: number;
}

/** Builds the network endpoint of one incarnation of a node (a SimNetwork provides this). */
export type NetworkFactory = (node: SimNode) => Network;

interface SimEvent {
  /** null: a world event. */
  node: NodeState | null;
  incarnation: number;
  kind: string;
  /** Called with `arg`, so a caller with per-event data need not allocate a closure for it. */
  fn: (arg: unknown) => void;
  arg: unknown;
  /** The owner of a timer event, told just before it runs; null for other events. */
  timers: SimTimers | null;
}

interface NodeState {
  id: string;
  clock: SimClock;
  disk: SimDisk;
  rng: SimRng;
  crashRng: SimRng;
  incarnation: number;
  up: boolean;
  crashRequested: boolean;
  current: SimNode;
  /** The current incarnation's Env.net. */
  seam: NetworkSeam;
}

/** Env.net until a network is attached: handlers are held, sends fail loudly. */
class NetworkSeam implements Network {
  private target: Network | null = null;
  private handler: ((from: NodeId, frame: Uint8Array) => void) | null = null;

  constructor(private readonly nodeId: string) {}

  attach(target: Network): void {
    assert(this.target === null, `network of ${this.nodeId} attached twice`);
    this.target = target;
    if (this.handler !== null) target.onFrame(this.handler);
  }

  send(to: NodeId, frame: Uint8Array): void {
    assert(this.target !== null, `network not attached (send from ${this.nodeId})`);
    this.target.send(to, frame);
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.handler = handler;
    if (this.target !== null) this.target.onFrame(handler);
  }
}

export class Simulator {
  readonly rng: SimRng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes = new Map<string, NodeState>();
  private readonly traceHashState: Trace;
  private now = 0;
  private processed = 0;
  private running = false;
  private dispatching: NodeState | null = null;
  private networkFactory: NetworkFactory | null = null;
  private readonly buggifyEnabled: boolean;
  private readonly buggifyFireProbability: number;
  private readonly buggifySites = new Map<string, boolean>();

  constructor(options: SimulatorOptions) {
    this.rng = new SimRng(options.seed);
    this.traceHashState = new Trace(options.traceKeepLines ?? 0);
    this.buggifyEnabled = options.buggify ?? false;
    this.buggifyFireProbability = options.buggifyFireProbability ?? 0.05;
    assert(this.buggifyFireProbability >= 0 && this.buggifyFireProbability <= 1, 'Simulator: buggify probability outside [0, 1]');
    this.traceHashState.line(`seed ${this.rng.seed}`);
  }

  /** Simulated true time in ms since the start of the run. */
  nowMs(): number {
    return this.now;
  }

  get eventsProcessed(): number {
    return this.processed;
  }

  /** Events still queued (including ones that will be dropped because their node crashed). */
  get pendingEvents(): number {
    return this.queue.size;
  }

  // ---- nodes ----

  addNode(nodeId: string, options: AddNodeOptions = {}): SimNode {
    assert(nodeId.length > 0, 'addNode: empty node id');
    assert(!this.nodes.has(nodeId), `addNode: ${nodeId} exists`);
    const rng = this.rng.fork(`node:${nodeId}`);
    const clock = new SimClock(() => this.now, { skewMs: options.clockSkewMs ?? 0, driftPpm: options.clockDriftPpm ?? 0 });
    const state = { id: nodeId, clock, rng, crashRng: rng.fork('crash'), incarnation: 0, up: true, crashRequested: false } as NodeState;
    state.disk = new SimDisk(
      {
        nowMs: () => this.now,
        schedule: (delayMs, kind, fn) => void this.bind(state, state.incarnation, this.now + delayMs, kind, fn),
        onOp: (op, name, size) => this.traceHashState.op(nodeId, op, name, size),
      },
      rng.fork('disk'),
      options.disk,
    );
    this.nodes.set(nodeId, state);
    state.current = this.incarnate(state);
    this.traceHashState.line(`add ${nodeId}`);
    return state.current;
  }

  /** The node's current incarnation. */
  node(nodeId: string): SimNode {
    return this.state(nodeId).current;
  }

  /** Node ids in the order they were added. */
  nodeIds(): string[] {
    return [...this.nodes.keys()];
  }

  isUp(nodeId: string): boolean {
    return this.state(nodeId).up;
  }

  crash(nodeId: string): void {
    const state = this.state(nodeId);
    assert(state.up, `crash: ${nodeId} is already down`);
    if (this.dispatching === state) {
      state.crashRequested = true;
      return;
    }
    state.up = false;
    state.crashRequested = false;
    this.traceHashState.line(`crash ${nodeId} ${state.incarnation}`);
    state.disk.crash(state.crashRng);
  }

  restart(nodeId: string): SimNode {
    const state = this.state(nodeId);
    assert(!state.up, `restart: ${nodeId} is up; crash it first`);
    state.incarnation++;
    state.up = true;
    state.current = this.incarnate(state);
    this.traceHashState.line(`restart ${nodeId} ${state.incarnation}`);
    return state.current;
  }

  /** Connects every node's Env.net, now and after restarts, to endpoints the factory builds. */
  attachNetwork(factory: NetworkFactory): void {
    assert(this.networkFactory === null, 'attachNetwork: a network is already attached');
    this.networkFactory = factory;
    for (const state of this.nodes.values()) state.seam.attach(factory(state.current));
  }

  // ---- scheduling ----

  /** A world event after `delayMs` of true time. */
  schedule(delayMs: number, kind: string, fn: () => void): EventId {
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) throw new AssertionError(`schedule: bad delay ${delayMs}`);
    return this.queue.push(this.now + delayMs, { node: null, incarnation: 0, kind, fn, arg: undefined, timers: null });
  }

  /** An event for the node's current incarnation; dropped if the node crashes first. */
  scheduleOnNode(nodeId: string, delayMs: number, kind: string, fn: () => void): EventId {
    return this.scheduleOnNodeWith(nodeId, delayMs, kind, fn, undefined);
  }

  /** scheduleOnNode calling `fn(arg)`: no closure per event for callers that pass data. */
  scheduleOnNodeWith<A>(nodeId: string, delayMs: number, kind: string, fn: (arg: A) => void, arg: A): EventId {
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) throw new AssertionError(`scheduleOnNode: bad delay ${delayMs}`);
    const state = this.state(nodeId);
    return this.queue.push(this.now + delayMs, { node: state, incarnation: state.incarnation, kind, fn: fn as (arg: unknown) => void, arg, timers: null });
  }

  cancel(id: EventId): void {
    this.queue.cancel(id);
  }

  /** Whether an event is still queued: false once it ran, was cancelled, or was popped and dropped because its node incarnation died. */
  isPending(id: EventId): boolean {
    return this.queue.isPending(id);
  }

  // ---- running ----

  run(limits: RunLimits = {}): number {
    return this.loop(null, limits).events;
  }

  runUntil(predicate: () => boolean, limits: RunLimits = {}): boolean {
    return this.loop(predicate, limits).satisfied;
  }

  // ---- trace ----

  traceHash(): string {
    return this.traceHashState.hex();
  }

  trace(line: string): void {
    this.traceHashState.line(line);
  }

  /** Folds a frame's send, delivery or drop (see Trace.frame). */
  traceFrame(kind: string, from: string, to: string, id: number, size: number, replayOf: number): void {
    this.traceHashState.frame(kind, from, to, id, size, replayOf);
  }

  /** The latest trace lines, readable (only with `traceKeepLines`). */
  recentTrace(): string[] {
    return this.traceHashState.recentLines();
  }

  // ---- internals ----

  private loop(predicate: (() => boolean) | null, limits: RunLimits): { events: number; satisfied: boolean } {
    assert(!this.running, 'Simulator.run called from inside an event');
    const maxEvents = limits.maxEvents ?? Number.POSITIVE_INFINITY;
    const untilMs = limits.untilMs ?? Number.POSITIVE_INFINITY;
    assert(maxEvents >= 0, `run: bad maxEvents ${maxEvents}`);
    assert(untilMs >= this.now, `run: untilMs ${untilMs} is in the past (now ${this.now})`);
    if (predicate?.()) return { events: 0, satisfied: true };
    this.running = true;
    let events = 0;
    try {
      while (events < maxEvents) {
        const next = this.queue.peekTime();
        if (next === undefined || next > untilMs) {
          if (untilMs !== Number.POSITIVE_INFINITY) this.now = untilMs;
          break;
        }
        const payload = this.queue.popPayload()!;
        const timeMs = this.queue.poppedTimeMs;
        const node = payload.node;
        if (node !== null && (!node.up || node.incarnation !== payload.incarnation)) continue;
        assert(timeMs >= this.now, 'Simulator: event in the past');
        this.now = timeMs;
        this.processed++;
        events++;
        this.traceHashState.event(timeMs, node === null ? '' : node.id, payload.kind);
        this.dispatching = node;
        try {
          if (payload.timers !== null) payload.timers.fired();
          payload.fn(payload.arg);
        } finally {
          this.dispatching = null;
        }
        if (node !== null && node.crashRequested) this.crash(node.id);
        if (predicate?.()) return { events, satisfied: true };
      }
    } finally {
      this.running = false;
    }
    return { events, satisfied: false };
  }

  private bind(state: NodeState, incarnation: number, timeMs: number, kind: string, fn: () => void): EventId {
    return this.queue.push(timeMs, { node: state, incarnation, kind, fn, arg: undefined, timers: null });
  }

  private incarnate(state: NodeState): SimNode {
    const incarnation = state.incarnation;
    const timers = new SimTimers(
      {
        scheduleTimer: (delayMs, callback, owner) =>
          this.queue.push(this.now + delayMs, { node: state, incarnation, kind: 'timer', fn: callback, arg: undefined, timers: owner }),
        cancelTimer: (id, owner) => this.queue.payloadOf(id)?.timers === owner && this.queue.cancel(id),
      },
      state.clock,
    );
    const seam = new NetworkSeam(state.id);
    const rng = state.rng.fork(`incarnation:${incarnation}`);
    const env: Env = {
      nodeId: state.id,
      clock: state.clock,
      timers,
      disk: state.disk,
      net: seam,
      rng,
      buggify: this.buggifyFor(state),
    };
    const node: SimNode = { id: state.id, env, disk: state.disk, clock: state.clock, timers, rng, incarnation };
    state.seam = seam;
    if (this.networkFactory !== null) seam.attach(this.networkFactory(node));
    return node;
  }

  private buggifyFor(state: NodeState): Buggify {
    if (!this.buggifyEnabled) return buggifyOff;
    const fire = state.rng.fork('buggify');
    return (site: string) => {
      if (!this.siteEnabled(site)) return false;
      if (!fire.chance(this.buggifyFireProbability)) return false;
      this.traceHashState.line(`buggify ${state.id} ${site}`);
      return true;
    };
  }

  /** Each site's coin depends on the seed and the site name only, not on which site was asked first. */
  private siteEnabled(site: string): boolean {
    let on = this.buggifySites.get(site);
    if (on === undefined) {
      on = new SimRng(`${this.rng.seed}/buggify-site/${site}`).chance(0.5);
      this.buggifySites.set(site, on);
    }
    return on;
  }

  private state(nodeId: string): NodeState {
    const state = this.nodes.get(nodeId);
    assert(state !== undefined, `unknown node ${nodeId}`);
    return state;
  }
}
