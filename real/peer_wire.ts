// What travels on a peer TCP connection, and the reader that cuts the byte
// stream back into messages.
//
// The handshake is io/frame_codec.ts frames (length:u32le, masked crc32c,
// msgpack payload), each holding one map:
//
//   client -> server  { t: 'hello', v: 3, cluster, from, to, nonce, addr }
//   server -> client  { t: 'challenge', nonce, proof }        (server proof, peer_auth.ts)
//   client -> server  { t: 'auth', proof }                    (client proof)
//
// `addr` is the peer address the client listens on (host:port; '' when it
// has none to give). The proofs cover it, and once the client has proved the
// secret the server dials it back: a node that joins needs only the seeds'
// addresses, and the others need not have been told about it.
//
// After `auth` the client sends only sealed records, any number:
//
//   record := length:u32le mac[16] kind:u8 body[length - 17]
//   kind 1  batch: core frames back to back, each as length:u32le bytes[length]
//           (at least one; a frame may be empty)
//   kind 2  heartbeat: empty body
//
// `mac` is the record MAC of peer_auth.ts over kind and body, so it also
// stands in for a checksum: a record is neither msgpack-encoded nor
// CRC-checked, and a core frame is copied once, into its batch. A core frame
// is what io/network.ts's Network carries (a replication message,
// core/replication/messages.ts), delivered as is. A link sends everything
// queued in one turn of the event loop as one batch, so under load the
// per-record cost of the MAC and the syscall is shared.
//
// Before authentication a frame may be at most HANDSHAKE_MAX_FRAME_BYTES; a
// larger length prefix closes the connection before its bytes are read.

import { assert } from '../io/assert.ts';
import { readUint32Le } from '../io/byte_order.ts';
import { FRAME_HEADER_BYTES, FrameError, decodeFrame, encodeFrame } from '../io/frame_codec.ts';
import { FRAME_MAC_BYTES, MAC_PREFIX_BYTES, NONCE_BYTES, PROOF_BYTES } from './peer_auth.ts';

export const PEER_WIRE_VERSION = 3;
export const HANDSHAKE_MAX_FRAME_BYTES = 1024;

export type PeerMessage =
  | { t: 'hello'; v: number; cluster: string; from: string; to: string; nonce: Uint8Array; addr: string }
  | { t: 'challenge'; nonce: Uint8Array; proof: Uint8Array }
  | { t: 'auth'; proof: Uint8Array };

export const RECORD_BATCH = 1;
export const RECORD_BEAT = 2;
/** length, mac and kind. */
export const RECORD_HEADER_BYTES = 4 + FRAME_MAC_BYTES + 1;

/**
 * A sealed record as read: `buf` holds kind and body at MAC_PREFIX_BYTES
 * (the prefix is free for the MAC check), `mac` the MAC it came with.
 */
export interface ReceivedRecord {
  kind: number;
  mac: Uint8Array;
  buf: Buffer;
}

export class PeerProtocolError extends Error {
  override name = 'PeerProtocolError';
}

export function encodePeerMessage(m: PeerMessage): Uint8Array {
  return encodeFrame(m);
}

function isBytes(x: unknown, length?: number): x is Uint8Array {
  return x instanceof Uint8Array && (length === undefined || x.length === length);
}

function isAddress(x: unknown): x is string {
  return typeof x === 'string' && x.length <= 256;
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
      if (!isShortString(m.cluster) || !isShortString(m.from) || !isShortString(m.to) || !isBytes(m.nonce, NONCE_BYTES) || !isAddress(m.addr)) {
        throw new PeerProtocolError('malformed hello');
      }
      return { t: 'hello', v: m.v, cluster: m.cluster, from: m.from, to: m.to, nonce: m.nonce, addr: m.addr };
    case 'challenge':
      if (!isBytes(m.nonce, NONCE_BYTES) || !isBytes(m.proof, PROOF_BYTES)) throw new PeerProtocolError('malformed challenge');
      return { t: 'challenge', nonce: m.nonce, proof: m.proof };
    case 'auth':
      if (!isBytes(m.proof, PROOF_BYTES)) throw new PeerProtocolError('malformed auth');
      return { t: 'auth', proof: m.proof };
    default:
      throw new PeerProtocolError(`unknown peer message type ${JSON.stringify(String(m.t)).slice(0, 40)}`);
  }
}

const BATCH_LENGTH_BYTES = 4;

/**
 * A record of `kind` holding `frames` as its body (a batch; none for a
 * heartbeat), laid out behind a free MAC prefix: [prefix][kind][body].
 * sealRecord turns it into the bytes to send.
 */
export function recordBuffer(kind: number, frames: readonly Uint8Array[]): Buffer {
  if (!(kind === RECORD_BEAT ? frames.length === 0 : kind === RECORD_BATCH && frames.length > 0)) assert(false, `record kind ${kind} with ${frames.length} frames`);
  let total = MAC_PREFIX_BYTES + 1;
  for (const f of frames) total += BATCH_LENGTH_BYTES + f.length;
  const buf = Buffer.allocUnsafe(total);
  buf[MAC_PREFIX_BYTES] = kind;
  let at = MAC_PREFIX_BYTES + 1;
  for (const f of frames) {
    buf.writeUInt32LE(f.length, at);
    buf.set(f, at + BATCH_LENGTH_BYTES);
    at += BATCH_LENGTH_BYTES + f.length;
  }
  return buf;
}

/**
 * The wire bytes of a record built by recordBuffer, given the MAC sealInPlace
 * computed over it: length and MAC go into the end of the prefix, and the
 * result is a view of `buf` from there.
 */
export function sealRecord(buf: Buffer, mac: Uint8Array): Buffer {
  assert(mac.length === FRAME_MAC_BYTES && buf.length > MAC_PREFIX_BYTES, 'record to seal');
  const start = MAC_PREFIX_BYTES - FRAME_MAC_BYTES - 4;
  buf.set(mac, MAC_PREFIX_BYTES - FRAME_MAC_BYTES);
  buf.writeUInt32LE(buf.length - start - 4, start);
  return buf.subarray(start);
}

/** The body of a batch: `frames` (at least one) back to back, each length-prefixed. */
export function encodeBatchBody(frames: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(recordBuffer(RECORD_BATCH, frames).subarray(MAC_PREFIX_BYTES + 1));
}

/** The frames of a batch body (views into it). Throws PeerProtocolError when the lengths do not tile it exactly. */
export function decodeBatchBody(body: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < BATCH_LENGTH_BYTES) throw new PeerProtocolError('batch ends inside a length prefix');
    const length = readUint32Le(body, at);
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
    const length = readUint32Le(this.gather(FRAME_HEADER_BYTES), 0);
    if (length > this.maxFrameBytes) throw new PeerProtocolError(`frame length ${length} exceeds ${this.maxFrameBytes}`);
    const total = FRAME_HEADER_BYTES + length;
    if (this.buffered < total) return null;
    const bytes = this.gather(total);
    const decoded = decodeFrame(bytes);
    if (decoded === null || decoded.used !== total) throw new FrameError('frame did not decode to its announced length');
    this.consume(total);
    return checkPeerMessage(decoded.message);
  }

  /**
   * The next sealed record (after the handshake), or null when more bytes
   * are needed. Throws PeerProtocolError for a length outside its bounds.
   */
  nextRecord(): ReceivedRecord | null {
    if (this.buffered < 4) return null;
    const length = readUint32Le(this.gather(4), 0);
    if (length > this.maxFrameBytes) throw new PeerProtocolError(`record length ${length} exceeds ${this.maxFrameBytes}`);
    if (length < RECORD_HEADER_BYTES - 4) throw new PeerProtocolError(`record length ${length} is shorter than its header`);
    const total = 4 + length;
    if (this.buffered < total) return null;
    const mac = new Uint8Array(FRAME_MAC_BYTES);
    this.copyOut(4, mac, 0, FRAME_MAC_BYTES);
    const buf = Buffer.allocUnsafe(MAC_PREFIX_BYTES + length - FRAME_MAC_BYTES);
    this.copyOut(4 + FRAME_MAC_BYTES, buf, MAC_PREFIX_BYTES, length - FRAME_MAC_BYTES);
    this.consume(total);
    return { kind: buf[MAC_PREFIX_BYTES]!, mac, buf };
  }

  /** Copies `n` buffered bytes from offset `from` into dest at `at`, chunk by chunk (no joining). */
  private copyOut(from: number, dest: Uint8Array, at: number, n: number): void {
    for (const c of this.chunks) {
      if (n === 0) return;
      if (from >= c.length) {
        from -= c.length;
        continue;
      }
      const take = Math.min(n, c.length - from);
      dest.set(c.subarray(from, from + take), at);
      at += take;
      n -= take;
      from = 0;
    }
    assert(n === 0, 'copyOut past the buffered bytes');
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
