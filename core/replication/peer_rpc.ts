// Request/reply between store nodes over the unreliable network. Each call
// gets a fresh id and a deadline; the reply (matched by id and sender) or
// the deadline, whichever comes first, is delivered exactly once, later ones
// are dropped. A call to this node itself skips the network but keeps the
// same asynchrony. Every frame from a peer tells the liveness view it is
// reachable; a call that times out counts against it.

import { assert } from '../../io/assert.ts';
import type { Env } from '../../io/env.ts';
import type { NodeId } from '../../io/network.ts';
import { SlabMap } from '../../io/slab_map.ts';
import type { TimerId } from '../../io/timers.ts';
import type { LivenessSignals } from './liveness.ts';
import { type Message, WireError, decodeWireMessage, encodeWireMessage, encodeWireRequest } from './messages.ts';

type RequestMessage = Extract<Message, { t: 'read' | 'write' | 'scan' | 'forward' | 'ping' | 'stream' | 'merkle' }>;
type ReplyMessage = Exclude<Message, RequestMessage>;
/** A request without its id (the rpc layer assigns it). */
export type OutgoingRequest = RequestMessage extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;
export type ReplyTo = (reply: ReplyMessage) => void;
export type RequestHandler = (from: NodeId, request: RequestMessage, reply: ReplyTo) => void;

const REQUEST_TYPES = new Set(['read', 'write', 'scan', 'forward', 'ping', 'stream', 'merkle']);

const REPLY_TYPES: Record<RequestMessage['t'], readonly ReplyMessage['t'][]> = {
  read: ['read_ok', 'fail'],
  write: ['write_ok', 'fail'],
  scan: ['scan_ok', 'fail'],
  forward: ['forward_reply'],
  ping: ['pong'],
  stream: ['stream_ok', 'fail'],
  merkle: ['merkle_reply', 'fail'],
};

interface PendingCall {
  to: NodeId;
  expects: readonly ReplyMessage['t'][];
  timer: TimerId;
  onReply: (reply: ReplyMessage | null) => void;
}

export class PeerRpc {
  private nextId: number;
  // A SlabMap, not a Map: calls come and go thousands of times a second (io/slab_map.ts says why that matters).
  private readonly calls = new SlabMap<number, PendingCall>();
  private handler: RequestHandler | null = null;
  private closed = false;

  constructor(
    private readonly env: Env,
    private readonly liveness: LivenessSignals,
    private readonly mark: (what: string) => void,
  ) {
    // Ids start at a random point so a reply to a previous incarnation's call cannot match a new one.
    this.nextId = env.rng.int(2 ** 30) * 2 ** 22 + 1;
  }

  /** The one handler of requests from peers (and from this node). */
  serve(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Sends a request; `onReply` gets the reply, or null when `timeoutMs` passes first. */
  call(to: NodeId, request: OutgoingRequest, timeoutMs: number, onReply: (reply: ReplyMessage | null) => void): void {
    // After close nothing is sent and nothing calls back: requests still open answer at their deadline.
    if (this.closed) return;
    const id = this.nextId++;
    const sentAtMs = this.env.clock.monotonicMs();
    const timer = this.env.timers.setTimer(Math.max(0, timeoutMs), () => {
      const call = this.calls.take(id);
      if (call === undefined) return;
      if (to !== this.env.nodeId) this.liveness.timedOut(to, sentAtMs);
      call.onReply(null);
    });
    this.calls.set(id, { to, expects: REPLY_TYPES[request.t], timer, onReply });
    if (to === this.env.nodeId) {
      const message = requestWithId(request, id);
      this.env.timers.setTimer(0, () => this.dispatchRequest(to, message));
      return;
    }
    this.env.net.send(to, encodeWireRequest(request, id));
  }

  /** Sends a request whose reply nobody waits for. */
  tell(to: NodeId, request: OutgoingRequest, timeoutMs: number): void {
    this.call(to, request, timeoutMs, () => {});
  }

  /** Feeds a frame received from the network. Garbage is counted and dropped. */
  receive(from: NodeId, frame: Uint8Array): void {
    if (this.closed) return;
    let message: Message;
    try {
      message = decodeWireMessage(frame);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.mark('garbage frame dropped');
      return;
    }
    this.liveness.heardFrom(from);
    if (REQUEST_TYPES.has(message.t)) this.dispatchRequest(from, message as RequestMessage);
    else this.deliverReply(from, message as ReplyMessage);
  }

  /** Drops every open call without calling back (the node is closing). */
  close(): void {
    this.closed = true;
    for (const call of this.calls.values()) this.env.timers.cancelTimer(call.timer);
    this.calls.clear();
  }

  get openCalls(): number {
    return this.calls.size;
  }

  private dispatchRequest(from: NodeId, request: RequestMessage): void {
    if (this.closed || this.handler === null) return;
    let replied = false;
    this.handler(from, request, (reply) => {
      assert(!replied, `request ${request.t} answered twice`);
      assert(reply.id === request.id, 'reply id matches the request');
      replied = true;
      if (this.closed) return;
      if (from === this.env.nodeId) this.env.timers.setTimer(0, () => this.deliverReply(from, reply));
      else this.env.net.send(from, encodeWireMessage(reply));
    });
  }

  private deliverReply(from: NodeId, reply: ReplyMessage): void {
    const call = this.calls.get(reply.id);
    if (call === undefined || call.to !== from || !call.expects.includes(reply.t)) {
      this.mark('late or stray reply dropped');
      return;
    }
    this.calls.delete(reply.id);
    this.env.timers.cancelTimer(call.timer);
    call.onReply(reply);
  }
}

/**
 * `{ ...request, id }`, built per type: a spread over the many request
 * shapes took V8's generic object-cloning path, and a coordinator calls
 * itself for most requests (it is usually one of the replicas).
 */
export function requestWithId(r: OutgoingRequest, id: number): RequestMessage {
  switch (r.t) {
    case 'read':
      return { t: r.t, ks: r.ks, key: r.key, hintFor: r.hintFor, id };
    case 'write':
      return { t: r.t, ks: r.ks, key: r.key, value: r.value, origin: r.origin, hintFor: r.hintFor, id };
    case 'scan':
      return { t: r.t, ks: r.ks, start: r.start, end: r.end, limit: r.limit, bulk: r.bulk, id };
    case 'forward':
      return { t: r.t, op: r.op, ks: r.ks, key: r.key, value: r.value, level: r.level, w: r.w, ttlMs: r.ttlMs, context: r.context, budgetMs: r.budgetMs, id };
    case 'ping':
      return { t: r.t, id };
    case 'stream':
      return { t: r.t, ks: r.ks, ranges: r.ranges, after: r.after, maxBytes: r.maxBytes, id };
    case 'merkle':
      return { t: r.t, ks: r.ks, body: r.body, id };
  }
}
