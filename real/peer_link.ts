// The outbound half of a peer connection: this node's frames to one peer.
//
// A link keeps one TCP connection to its peer, authenticates it (peer_auth.ts,
// wire in peer_wire.ts), and writes queued frames while the socket accepts
// them. The queue is bounded in frames and bytes: when the peer is slow or
// unreachable, frames beyond the bound are dropped and counted, as the
// Network contract allows (core/ protocols tolerate loss). A lost connection
// is retried with exponential backoff and jitter; the backoff resets once a
// handshake completes. Heartbeats go out at a fixed interval on a ready
// connection so the peer can estimate this node's liveness (phi accrual).
//
// Frames queued during one turn of the event loop leave together, as one
// batch record (peer_wire.ts) on the next: one MAC and one write(2) for all
// of them instead of one each, each frame copied once, into the record.
// Under load a turn handles many requests, and a frame per write was most
// of a link's cost.

import * as net from 'node:net';
import type { Logger } from 'pino';
import { assert } from '../io/assert.ts';
import type { Rng } from '../io/rng.ts';
import { FrameSealer, clientProof, newNonce, sameBytes, serverProof, sessionKey, type HandshakeTranscript } from './peer_auth.ts';
import { HANDSHAKE_MAX_FRAME_BYTES, PEER_WIRE_VERSION, PeerFrameReader, RECORD_BATCH, RECORD_BEAT, encodePeerMessage, recordBuffer, sealRecord } from './peer_wire.ts';

export interface PeerLinkOptions {
  cluster: string;
  self: string;
  peer: string;
  /** This node's own peer address, announced in the hello (tcp_network.ts). */
  advertise: string;
  host: string;
  port: number;
  secret: Uint8Array;
  maxQueueFrames: number;
  maxQueueBytes: number;
  heartbeatIntervalMs: number;
  handshakeTimeoutMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  rng: Rng;
  logger: Logger;
}

export type PeerLinkState = 'connecting' | 'handshaking' | 'ready' | 'backoff' | 'closed';

export interface PeerLinkCounters {
  framesSent: number;
  /** Batch messages written; framesSent / batchesSent is the mean batch. */
  batchesSent: number;
  bytesSent: number;
  framesDropped: number;
  connects: number;
  disconnects: number;
}

export class PeerLink {
  private state: PeerLinkState = 'backoff';
  private socket: net.Socket | null = null;
  private sealer: FrameSealer | null = null;
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private waitingDrain = false;
  private pumpScheduled = false;
  private readonly pumpSoon = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };
  private backoffMs: number;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** The failure last logged at warn; the same failure again goes to debug. */
  private loggedFailure: string | null = null;
  readonly counters: PeerLinkCounters = { framesSent: 0, batchesSent: 0, bytesSent: 0, framesDropped: 0, connects: 0, disconnects: 0 };

  constructor(private readonly o: PeerLinkOptions) {
    assert(o.maxQueueFrames > 0 && o.maxQueueBytes > 0, 'queue bounds must be positive');
    assert(o.backoffMinMs > 0 && o.backoffMaxMs >= o.backoffMinMs, 'backoff bounds');
    this.backoffMs = o.backoffMinMs;
  }

  get linkState(): PeerLinkState {
    return this.state;
  }

  get queuedFrames(): number {
    return this.queue.length - this.queueHead;
  }

  get queueBytes(): number {
    return this.queuedBytes;
  }

  start(): void {
    assert(this.state === 'backoff' && this.socket === null, `start in state ${this.state}`);
    this.connect();
  }

  /** Queues a frame; drops it (counted) when the queue is full or the link closed. */
  send(frame: Uint8Array): void {
    if (this.state === 'closed' || this.queuedFrames >= this.o.maxQueueFrames || this.queuedBytes + frame.length > this.o.maxQueueBytes) {
      this.counters.framesDropped++;
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.state !== 'ready' || this.waitingDrain) return;
    this.pumpScheduled = true;
    setImmediate(this.pumpSoon);
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    this.socket?.destroy();
    this.socket = null;
    this.counters.framesDropped += this.queuedFrames;
    this.queue.length = 0;
    this.queueHead = 0;
    this.queuedBytes = 0;
  }

  private connect(): void {
    this.state = 'connecting';
    const socket = net.connect({ host: this.o.host, port: this.o.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const reader = new PeerFrameReader(HANDSHAKE_MAX_FRAME_BYTES);
    const clientNonce = newNonce();
    let transcript: HandshakeTranscript | null = null;
    this.timer = setTimeout(() => this.fail(socket, 'handshake timed out'), this.o.handshakeTimeoutMs);

    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.state = 'handshaking';
      socket.write(encodePeerMessage({ t: 'hello', v: PEER_WIRE_VERSION, cluster: this.o.cluster, from: this.o.self, to: this.o.peer, nonce: clientNonce, addr: this.o.advertise }));
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      if (this.state !== 'handshaking') return this.fail(socket, 'peer sent bytes after the handshake');
      try {
        reader.push(chunk);
        const m = reader.next();
        if (m === null) return;
        if (m.t !== 'challenge') throw new Error(`expected a challenge, got ${m.t}`);
        transcript = { cluster: this.o.cluster, clientId: this.o.self, serverId: this.o.peer, clientAddress: this.o.advertise, clientNonce, serverNonce: m.nonce };
        if (!sameBytes(m.proof, serverProof(this.o.secret, transcript))) throw new Error('peer failed to prove the cluster secret');
        if (reader.pendingBytes > 0) throw new Error('peer sent bytes after its challenge');
      } catch (err) {
        return this.fail(socket, (err as Error).message);
      }
      socket.write(encodePeerMessage({ t: 'auth', proof: clientProof(this.o.secret, transcript) }));
      this.ready(socket, sessionKey(this.o.secret, transcript));
    });
    socket.on('drain', () => {
      if (this.socket !== socket) return;
      this.waitingDrain = false;
      this.pump();
    });
    socket.on('error', (err) => this.fail(socket, err.message));
    socket.on('close', () => this.fail(socket, 'connection closed'));
  }

  private ready(socket: net.Socket, key: Uint8Array): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.state = 'ready';
    this.sealer = new FrameSealer(key);
    this.backoffMs = this.o.backoffMinMs;
    this.counters.connects++;
    this.o.logger.info({ peer: this.o.peer, address: `${this.o.host}:${this.o.port}` }, 'peer link up');
    this.loggedFailure = null;
    const beat = () => {
      if (this.socket !== socket || this.state !== 'ready') return;
      const record = recordBuffer(RECORD_BEAT, []);
      socket.write(sealRecord(record, this.sealer!.sealInPlace(record)));
    };
    this.heartbeat = setInterval(beat, this.o.heartbeatIntervalMs);
    beat();
    this.pump();
  }

  private pump(): void {
    if (this.state !== 'ready' || this.waitingDrain) return;
    const socket = this.socket!;
    while (this.queueHead < this.queue.length) {
      const batch: Uint8Array[] = [];
      let batchBytes = 0;
      while (this.queueHead < this.queue.length) {
        const frame = this.queue[this.queueHead]!;
        if (batch.length > 0 && batchBytes + frame.length > MAX_BATCH_BYTES) break;
        this.queue[this.queueHead++] = EMPTY;
        this.queuedBytes -= frame.length;
        batch.push(frame);
        batchBytes += frame.length;
      }
      const record = recordBuffer(RECORD_BATCH, batch);
      const bytes = sealRecord(record, this.sealer!.sealInPlace(record));
      this.counters.framesSent += batch.length;
      this.counters.batchesSent++;
      this.counters.bytesSent += bytes.length;
      if (!socket.write(bytes)) {
        this.waitingDrain = true;
        break;
      }
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private fail(socket: net.Socket, reason: string): void {
    if (this.socket !== socket || this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.clearTimers();
    this.socket = null;
    this.sealer = null;
    this.waitingDrain = false;
    socket.destroy();
    if (wasReady) this.counters.disconnects++;
    const fields = { peer: this.o.peer, address: `${this.o.host}:${this.o.port}`, reason, retryInMs: Math.round(this.backoffMs) };
    if (wasReady || this.loggedFailure !== reason) this.o.logger.warn(fields, wasReady ? 'peer link lost' : 'peer link cannot connect');
    else this.o.logger.debug(fields, 'peer link retry failed');
    this.loggedFailure = reason;
    this.state = 'backoff';
    const jittered = this.backoffMs * (0.75 + 0.5 * this.o.rng.next());
    this.backoffMs = Math.min(this.o.backoffMaxMs, this.backoffMs * 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state === 'backoff') this.connect();
    }, jittered);
  }

  private clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.timer = null;
    this.heartbeat = null;
  }
}

const EMPTY = new Uint8Array(0);
/** A batch takes frames up to this many bytes in all (a larger frame goes alone). */
const MAX_BATCH_BYTES = 1024 * 1024;
