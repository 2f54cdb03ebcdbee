// io/network.ts's Network over TCP between the processes of a cluster.
//
// Each node listens on its peer address and opens one outbound connection
// per other member (peer_link.ts); a connection carries frames one way, so
// node A's frames to B travel on A's connection to B and B's replies on B's
// connection to A. Inbound connections (peer_inbound.ts) are authenticated
// with the shared cluster secret before any frame is delivered.
//
// The peers are the configured members, and any node that proves the secret:
// its hello names the address it listens on, and this node dials that back
// (learnAddress). Gossip spreads each member's address too (the node process
// hands what it learns to learnAddress), so a node that joins needs only its
// seeds' addresses, and no running node has to be told about it.
//
// Heartbeats arriving on inbound connections feed a phi-accrual failure
// detector per peer (core/membership/phi_accrual.ts), reported by
// peerStatus() for the admin API; the replication layer keeps its own
// request-based view of who is up.

import * as net from 'node:net';
import type { Logger } from 'pino';
import { assert } from '../io/assert.ts';
import type { Clock } from '../io/clock.ts';
import { FRAME_MAX_PAYLOAD_BYTES } from '../io/frame_codec.ts';
import type { Network, NodeId } from '../io/network.ts';
import type { Rng } from '../io/rng.ts';
import { PhiAccrualDetector } from '../core/membership/phi_accrual.ts';
import { NODE_ID_PATTERN, formatHostPort, parseHostPort } from './node_config.ts';
import { InboundConnection } from './peer_inbound.ts';
import { PeerLink, type PeerLinkState } from './peer_link.ts';

export interface PeerAddress {
  id: NodeId;
  host: string;
  port: number;
}

export interface TcpNetworkOptions {
  nodeId: NodeId;
  /** Names the cluster in the handshake: nodes of another cluster with the same secret are refused. */
  cluster: string;
  secret: Uint8Array;
  listenHost: string;
  /** 0 picks a free port. */
  listenPort: number;
  /** Every member, this node included or not; each other one gets an outbound link. */
  members: PeerAddress[];
  /**
   * The address other nodes reach this one at, host:port: by default this
   * node's entry in `members`, else the address it listens on.
   */
  advertise?: string;
  clock: Clock;
  rng: Rng;
  logger: Logger;
  maxFrameBytes?: number;
  maxQueueFrames?: number;
  maxQueueBytes?: number;
  heartbeatIntervalMs?: number;
  handshakeTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Inbound connections held at once (authenticated or not); more are refused. */
  maxInboundConnections?: number;
}

export interface PeerStatus {
  id: NodeId;
  address: string;
  link: PeerLinkState;
  queuedFrames: number;
  queuedBytes: number;
  framesSent: number;
  framesDropped: number;
  /** Authenticated inbound connections from this peer. */
  inbound: number;
  /** Phi of the peer's heartbeats; null before the first one. */
  phi: number | null;
  /** Phi at or over the detector's threshold (false before the first heartbeat). */
  suspected: boolean;
}

export interface TcpNetworkCounters {
  framesReceived: number;
  bytesReceived: number;
  connectionsAccepted: number;
  connectionsRejected: number;
  framesToUnknownNode: number;
  framesBeforeHandler: number;
}

export class TcpNetwork implements Network {
  private handler: ((from: NodeId, frame: Uint8Array) => void) | null = null;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly addresses = new Map<NodeId, string>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly advertised: string;
  private readonly phi = new PhiAccrualDetector();
  private closed = false;
  readonly counters: TcpNetworkCounters = {
    framesReceived: 0,
    bytesReceived: 0,
    connectionsAccepted: 0,
    connectionsRejected: 0,
    framesToUnknownNode: 0,
    framesBeforeHandler: 0,
  };

  private constructor(
    private readonly o: TcpNetworkOptions,
    private readonly server: net.Server,
  ) {
    const self = o.members.find((m) => m.id === o.nodeId);
    const bound = server.address() as net.AddressInfo;
    this.advertised = o.advertise ?? (self !== undefined ? formatHostPort(self.host, self.port) : formatHostPort(bound.address, bound.port));
    const seen = new Set<NodeId>();
    for (const m of o.members) {
      assert(!seen.has(m.id), `member ${m.id} listed twice`);
      seen.add(m.id);
      if (m.id !== o.nodeId) this.addLink(m.id, m.host, m.port);
    }
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Binds the peer port, then starts connecting to every other member. */
  static listen(o: TcpNetworkOptions): Promise<TcpNetwork> {
    const server = net.createServer({ noDelay: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.listenPort, o.listenHost, () => {
        server.off('error', reject);
        const network = new TcpNetwork(o, server);
        server.on('error', (err) => o.logger.error({ err }, 'peer listener error'));
        for (const link of network.links.values()) link.start();
        resolve(network);
      });
    });
  }

  /** The bound peer address (the real port when 0 was asked for). */
  get address(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** The address this node announces to the nodes it connects to. */
  get advertisedAddress(): string {
    return this.advertised;
  }

  /**
   * Where `id` listens, as it said in a handshake or as gossip reports: a
   * node not linked yet gets a link (started at once when the network is
   * up), a linked one that moved gets a new link to its new address. An
   * address that does not parse, or an id no configuration could hold, is ignored.
   */
  learnAddress(id: NodeId, address: string): void {
    if (this.closed || id === this.o.nodeId || !NODE_ID_PATTERN.test(id) || this.addresses.get(id) === address) return;
    const parsed = parseHostPort(address);
    if (parsed === null || parsed.port === 0) return; // port 0 is not one to dial
    const old = this.links.get(id);
    if (old !== undefined) {
      this.o.logger.info({ peer: id, from: this.addresses.get(id), to: address }, 'peer moved to a new address');
      old.close();
    } else {
      this.o.logger.info({ peer: id, address }, 'peer learned');
    }
    this.addLink(id, parsed.host, parsed.port).start();
  }

  send(to: NodeId, frame: Uint8Array): void {
    if (this.closed) return;
    const link = this.links.get(to);
    if (link !== undefined) return link.send(frame);
    if (to === this.o.nodeId) {
      // The node talks to itself without the network, but the contract allows it.
      setImmediate(() => this.deliver(to, frame));
      return;
    }
    this.counters.framesToUnknownNode++;
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    assert(this.handler === null, 'onFrame registered twice');
    this.handler = handler;
  }

  peerStatus(): PeerStatus[] {
    const now = this.o.clock.monotonicMs();
    const inboundBy = new Map<string, number>();
    for (const c of this.inbound) if (c.peer !== null) inboundBy.set(c.peer, (inboundBy.get(c.peer) ?? 0) + 1);
    return [...this.links.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([id, link]) => {
        const heard = this.phi.statistics(id) !== null;
        return {
          id,
          address: this.addresses.get(id)!,
          link: link.linkState,
          queuedFrames: link.queuedFrames,
          queuedBytes: link.queueBytes,
          framesSent: link.counters.framesSent,
          framesDropped: link.counters.framesDropped,
          inbound: inboundBy.get(id) ?? 0,
          phi: heard ? this.phi.phi(id, now) : null,
          suspected: heard ? !this.phi.isAvailable(id, now) : false,
        };
      });
  }

  /** Stops listening, closes every connection; frames still queued are dropped. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const link of this.links.values()) link.close();
    for (const c of [...this.inbound]) c.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private addLink(id: NodeId, host: string, port: number): PeerLink {
    const o = this.o;
    const link = new PeerLink({
      cluster: o.cluster,
      self: o.nodeId,
      peer: id,
      advertise: this.advertised,
      host,
      port,
      secret: o.secret,
      maxQueueFrames: o.maxQueueFrames ?? 10_000,
      maxQueueBytes: o.maxQueueBytes ?? 64 * 1024 * 1024,
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? 1000,
      handshakeTimeoutMs: o.handshakeTimeoutMs ?? 5000,
      backoffMinMs: o.backoffMinMs ?? 50,
      backoffMaxMs: o.backoffMaxMs ?? 5000,
      rng: o.rng,
      logger: o.logger,
    });
    this.links.set(id, link);
    this.addresses.set(id, formatHostPort(host, port));
    return link;
  }

  private accept(socket: net.Socket): void {
    const limit = this.o.maxInboundConnections ?? 16 + 4 * this.links.size;
    if (this.closed || this.inbound.size >= limit) {
      this.counters.connectionsRejected++;
      this.o.logger.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}`, open: this.inbound.size }, 'peer connection refused: too many open');
      socket.destroy();
      return;
    }
    this.counters.connectionsAccepted++;
    const conn = new InboundConnection(socket, {
      cluster: this.o.cluster,
      self: this.o.nodeId,
      secret: this.o.secret,
      authenticated: (id, address) => this.learnAddress(id, address),
      maxFrameBytes: this.o.maxFrameBytes ?? FRAME_MAX_PAYLOAD_BYTES,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs ?? 5000,
      logger: this.o.logger,
      deliver: (from, frame) => {
        this.counters.framesReceived++;
        this.counters.bytesReceived += frame.length;
        this.deliver(from, frame);
      },
      heartbeat: (from) => this.phi.heartbeat(from, this.o.clock.monotonicMs()),
      closed: (c, rejectedFor) => {
        this.inbound.delete(c);
        if (rejectedFor !== null) this.counters.connectionsRejected++;
      },
    });
    this.inbound.add(conn);
  }

  private deliver(from: NodeId, frame: Uint8Array): void {
    if (this.closed) return;
    if (this.handler === null) {
      this.counters.framesBeforeHandler++;
      return;
    }
    this.handler(from, frame);
  }
}
