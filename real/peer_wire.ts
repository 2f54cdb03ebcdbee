// What travels on a peer TCP connection, and the reader that cuts the byte
// stream back into messages.
//
// Every unit is one io/frame_codec.ts frame (length:u32le, masked crc32c,
// msgpack payload) holding one map:
//
//   client -> server  { t: 'hello', v: 1, cluster, from, to, nonce }
//   server -> client  { t: 'challenge', nonce, proof }        (server proof, peer_auth.ts)
//   client -> server  { t: 'auth', proof }                    (client proof)
//   client -> server  { t: 'data', f: <core frame>, m: <MAC> } any number, after auth
//   client -> server  { t: 'batch', b: <frames>, m: <MAC of b> } any number, after auth
//   client -> server  { t: 'beat', m: <MAC of no bytes> }     heartbeat, after auth
//
// The core frame inside `data` is what io/network.ts's Network carries (a
// replication message, core/replication/messages.ts), delivered as is.
// `batch` carries several core frames under one MAC and one write(2): b is
// the frames back to back, each as length:u32le bytes[length] (at least
// one; a frame may be empty). A link sends everything queued in one turn of
// the event loop as one batch, so under load the per-frame cost of the MAC,
// the envelope and the syscall is shared.
// Before authentication a frame may be at most HANDSHAKE_MAX_FRAME_BYTES; a
// larger length prefix closes the connection before its bytes are read.

import { assert } from '../io/assert.ts';
import { FRAME_HEADER_BYTES, FrameError, decodeFrame, encodeFrame } from '../io/frame_codec.ts';
import { NONCE_BYTES, PROOF_BYTES, FRAME_MAC_BYTES } from './peer_auth.ts';

export const PEER_WIRE_VERSION = 1;
export const HANDSHAKE_MAX_FRAME_BYTES = 1024;

export type PeerMessage =
  | { t: 'hello'; v: number; cluster: string; from: string; to: string; nonce: Uint8Array }
  | { t: 'challenge'; nonce: Uint8Array; proof: Uint8Array }
  | { t: 'auth'; proof: Uint8Array }
  | { t: 'data'; f: Uint8Array; m: Uint8Array }
  | { t: 'batch'; b: Uint8Array; m: Uint8Array }
  | { t: 'beat'; m: Uint8Array };

export class PeerProtocolError extends Error {
  override name = 'PeerProtocolError';
}

export function encodePeerMessage(m: PeerMessage): Uint8Array {
  return encodeFrame(m);
}

function isBytes(x: unknown, length?: number): x is Uint8Array {
  return x instanceof Uint8Array && (length === undefined || x.length === length);
}

function isShortString(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= 256;
}

/** Checks the shape of a decoded message; throws PeerProtocolError. */
export function checkPeerMessage(raw: unknown): PeerMessage {
  if (typeof raw !== 'object' || raw === null) throw new PeerProtocolError('message is not a map');
  const m = raw as Record<string, unknown>;
  switch (m.t) {
    case 'hello':
      if (m.v !== PEER_WIRE_VERSION) throw new PeerProtocolError(`peer wire version ${String(m.v)} unsupported`);
      if (!isShortString(m.cluster) || !isShortString(m.from) || !isShortString(m.to) || !isBytes(m.nonce, NONCE_BYTES)) {
        throw new PeerProtocolError('malformed hello');
      }
      return { t: 'hello', v: m.v, cluster: m.cluster, from: m.from, to: m.to, nonce: m.nonce };
    case 'challenge':
      if (!isBytes(m.nonce, NONCE_BYTES) || !isBytes(m.proof, PROOF_BYTES)) throw new PeerProtocolError('malformed challenge');
      return { t: 'challenge', nonce: m.nonce, proof: m.proof };
    case 'auth':
      if (!isBytes(m.proof, PROOF_BYTES)) throw new PeerProtocolError('malformed auth');
      return { t: 'auth', proof: m.proof };
    case 'data':
      if (!isBytes(m.f) || !isBytes(m.m, FRAME_MAC_BYTES)) throw new PeerProtocolError('malformed data');
      return { t: 'data', f: m.f, m: m.m };
    case 'batch':
      if (!isBytes(m.b) || m.b.length < BATCH_LENGTH_BYTES || !isBytes(m.m, FRAME_MAC_BYTES)) throw new PeerProtocolError('malformed batch');
      return { t: 'batch', b: m.b, m: m.m };
    case 'beat':
      if (!isBytes(m.m, FRAME_MAC_BYTES)) throw new PeerProtocolError('malformed beat');
      return { t: 'beat', m: m.m };
    default:
      throw new PeerProtocolError(`unknown peer message type ${JSON.stringify(String(m.t)).slice(0, 40)}`);
  }
}

const BATCH_LENGTH_BYTES = 4;

/** The body of a batch message: `frames` (at least one) back to back, each length-prefixed. */
export function encodeBatchBody(frames: readonly Uint8Array[]): Uint8Array {
  assert(frames.length > 0, 'a batch holds at least one frame');
  let total = 0;
  for (const f of frames) total += BATCH_LENGTH_BYTES + f.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const f of frames) {
    view.setUint32(at, f.length, true);
    out.set(f, at + BATCH_LENGTH_BYTES);
    at += BATCH_LENGTH_BYTES + f.length;
  }
  return out;
}

/** The frames of a batch body (views into it). Throws PeerProtocolError when the lengths do not tile it exactly. */
export function decodeBatchBody(body: Uint8Array): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const frames: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < BATCH_LENGTH_BYTES) throw new PeerProtocolError('batch ends inside a length prefix');
    const length = view.getUint32(at, true);
    at += BATCH_LENGTH_BYTES;
    if (length > body.length - at) throw new PeerProtocolError(`batch frame of ${length} bytes overruns the batch`);
    frames.push(body.subarray(at, at + length));
    at += length;
  }
  if (frames.length === 0) throw new PeerProtocolError('empty batch');
  return frames;
}

/**
 * Reassembles frames from TCP chunks. `maxFrameBytes` bounds the payload a
 * length prefix may announce; it can be raised once the peer is trusted.
 */
export class PeerFrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(public maxFrameBytes: number) {}

  /** Bytes received and not yet returned as a message. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete message, or null when more bytes are needed. Throws PeerProtocolError or FrameError. */
  next(): PeerMessage | null {
    if (this.buffered < FRAME_HEADER_BYTES) return null;
    const head = this.gather(FRAME_HEADER_BYTES);
    const length = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0, true);
    if (length > this.maxFrameBytes) throw new PeerProtocolError(`frame length ${length} exceeds ${this.maxFrameBytes}`);
    const total = FRAME_HEADER_BYTES + length;
    if (this.buffered < total) return null;
    const bytes = this.gather(total);
    const decoded = decodeFrame(bytes);
    if (decoded === null || decoded.used !== total) throw new FrameError('frame did not decode to its announced length');
    this.consume(total);
    return checkPeerMessage(decoded.message);
  }

  /** The first `n` buffered bytes as one array (joining chunks once, so a large frame is not copied per chunk). */
  private gather(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const joined = new Uint8Array(this.buffered);
    let at = 0;
    for (const c of this.chunks) {
      joined.set(c, at);
      at += c.length;
    }
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private consume(n: number): void {
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        this.chunks.shift();
        n -= first.length;
        this.buffered -= first.length;
      } else {
        this.chunks[0] = first.subarray(n);
        this.buffered -= n;
        n = 0;
      }
    }
  }
}
