// The inbound half of a peer connection: frames from one peer to this node.
//
// The connecting side must complete the handshake of peer_auth.ts within
// `handshakeTimeoutMs`, with frames no larger than HANDSHAKE_MAX_FRAME_BYTES,
// naming this cluster and this node. After that every frame
// must carry the right MAC for its position in the stream. Anything else
// (random bytes, a bad checksum, a wrong proof or MAC, an oversized length
// prefix) closes the connection and is logged; no frame
// of an unauthenticated or failed connection reaches the node.

import type * as net from 'node:net';
import type { Logger } from 'pino';
import { NODE_ID_PATTERN } from './node_config.ts';
import { FrameOpener, clientProof, newNonce, sameBytes, serverProof, sessionKey, type HandshakeTranscript } from './peer_auth.ts';
import { MAC_PREFIX_BYTES } from './peer_auth.ts';
import { HANDSHAKE_MAX_FRAME_BYTES, PeerFrameReader, type PeerMessage, RECORD_BATCH, RECORD_BEAT, type ReceivedRecord, decodeBatchBody, encodePeerMessage } from './peer_wire.ts';

export interface InboundOptions {
  cluster: string;
  self: string;
  secret: Uint8Array;
  maxFrameBytes: number;
  handshakeTimeoutMs: number;
  logger: Logger;
  /** The peer proved the secret: it is `from`, and listens on `address` (as it says; '' for unknown). */
  authenticated: (from: string, address: string) => void;
  /** An authenticated core frame from `from`. */
  deliver: (from: string, frame: Uint8Array) => void;
  /** A heartbeat from `from`. */
  heartbeat: (from: string) => void;
  /** Called once when the connection ends, for whatever reason. */
  closed: (conn: InboundConnection, reason: string | null) => void;
}

type InboundState =
  | { s: 'hello' }
  | { s: 'auth'; from: string; address: string; transcript: HandshakeTranscript }
  | { s: 'open'; from: string; opener: FrameOpener }
  | { s: 'closed' };

export class InboundConnection {
  private state: InboundState = { s: 'hello' };
  private readonly reader = new PeerFrameReader(HANDSHAKE_MAX_FRAME_BYTES);
  private timer: NodeJS.Timeout | null;
  readonly remote: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly o: InboundOptions,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    this.timer = setTimeout(() => this.reject('handshake timed out'), o.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.end(`socket error: ${err.message}`, false));
    socket.on('close', () => this.end(null, false));
  }

  /** The authenticated peer, once the handshake is done. */
  get peer(): string | null {
    return this.state.s === 'open' ? this.state.from : null;
  }

  close(): void {
    this.end(null, false);
  }

  private onData(chunk: Buffer): void {
    if (this.state.s === 'closed') return;
    this.reader.push(chunk);
    try {
      for (;;) {
        const st = this.state;
        if (st.s === 'open') {
          const r = this.reader.nextRecord();
          if (r === null) return;
          this.record(st.from, st.opener, r);
          if ((this.state as InboundState).s === 'closed') return;
          continue;
        }
        const m = this.reader.next();
        if (m === null) return;
        this.handle(m);
        // `handle` may have closed the connection (a rejected frame).
        if ((this.state as InboundState).s === 'closed') return;
      }
    } catch (err) {
      this.reject((err as Error).message);
    }
  }

  private handle(m: PeerMessage): void {
    const st = this.state;
    switch (st.s) {
      case 'hello': {
        if (m.t !== 'hello') return this.reject(`expected hello, got ${m.t}`);
        if (m.cluster !== this.o.cluster) return this.reject(`hello for cluster ${JSON.stringify(m.cluster)}, this is ${JSON.stringify(this.o.cluster)}`);
        if (m.to !== this.o.self) return this.reject(`hello for node ${JSON.stringify(m.to)}, this is ${this.o.self}`);
        if (m.from === this.o.self || !NODE_ID_PATTERN.test(m.from)) return this.reject(`hello from ${JSON.stringify(m.from)}, not a peer`);
        const transcript: HandshakeTranscript = { cluster: this.o.cluster, clientId: m.from, serverId: this.o.self, clientAddress: m.addr, clientNonce: m.nonce, serverNonce: newNonce() };
        this.state = { s: 'auth', from: m.from, address: m.addr, transcript };
        this.socket.write(encodePeerMessage({ t: 'challenge', nonce: transcript.serverNonce, proof: serverProof(this.o.secret, transcript) }));
        return;
      }
      case 'auth': {
        if (m.t !== 'auth') return this.reject(`expected auth, got ${m.t}`);
        if (!sameBytes(m.proof, clientProof(this.o.secret, st.transcript))) return this.reject(`${st.from} failed to prove the cluster secret`);
        if (this.timer !== null) clearTimeout(this.timer);
        this.timer = null;
        this.state = { s: 'open', from: st.from, opener: new FrameOpener(sessionKey(this.o.secret, st.transcript)) };
        this.reader.maxFrameBytes = this.o.maxFrameBytes;
        this.o.logger.debug({ peer: st.from, remote: this.remote, address: st.address }, 'peer connection authenticated');
        this.o.authenticated(st.from, st.address);
        return;
      }
      case 'open':
        return this.reject(`unexpected ${m.t} on an open connection`);
      case 'closed':
        return;
    }
  }

  private record(from: string, opener: FrameOpener, r: ReceivedRecord): void {
    if (!opener.openInPlace(r.buf, r.mac)) return this.reject(`record from ${from} failed its MAC`);
    if (r.kind === RECORD_BATCH) {
      for (const f of decodeBatchBody(r.buf.subarray(MAC_PREFIX_BYTES + 1))) {
        this.o.deliver(from, f);
        // A delivered frame may lead the node to close this connection.
        if ((this.state as InboundState).s === 'closed') return;
      }
    } else if (r.kind === RECORD_BEAT && r.buf.length === MAC_PREFIX_BYTES + 1) {
      this.o.heartbeat(from);
    } else {
      this.reject(`record of kind ${r.kind} and ${r.buf.length - MAC_PREFIX_BYTES - 1} bytes from ${from}`);
    }
  }

  private reject(reason: string): void {
    this.end(reason, true);
  }

  private end(reason: string | null, rejected: boolean): void {
    if (this.state.s === 'closed') return;
    const peer = this.state.s === 'open' || this.state.s === 'auth' ? this.state.from : null;
    this.state = { s: 'closed' };
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket.destroy();
    if (rejected) this.o.logger.warn({ remote: this.remote, claimedPeer: peer, reason }, 'peer connection rejected');
    else if (reason !== null) this.o.logger.info({ remote: this.remote, peer, reason }, 'peer connection ended');
    this.o.closed(this, rejected ? reason : null);
  }
}
