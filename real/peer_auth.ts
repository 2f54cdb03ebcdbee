// Authentication between peers: every node of a cluster holds the same
// cluster secret, and nothing without it can open a peer connection or slip
// a frame into one.
//
// A connection is opened by the sending node (the client) and carries frames
// one way, client to server. The handshake is a challenge-response over
// fresh nonces from both sides, so a recorded connection cannot be replayed:
//
//   transcript    = "ringkv-peer-v2" | cluster | client id | server id | client address | client nonce | server nonce
//   server proof  = HMAC-SHA256(secret, "server" | transcript)   (client checks it: the server knows the secret)
//   client proof  = HMAC-SHA256(secret, "client" | transcript)   (server checks it before accepting any frame)
//   session key   = HMAC-SHA256(secret, "session" | transcript)
//   record MAC    = first 16 bytes of HMAC-SHA256(session key, seq:u64be | record)
//
// `seq` counts the records of the connection from 0 and is never sent: TCP
// delivers in order, so a dropped, replayed, reordered or altered record
// fails its MAC and the connection is closed. (A record is what peer_wire.ts
// seals after the handshake: a kind byte and a body.)
//
// The record MAC is HMAC (RFC 2104) computed from two one-shot SHA-256
// hashes over a buffer with room for the inner pad and `seq` in front of the
// record, not through createHmac: creating an Hmac object costs several
// microseconds, more than hashing a kilobyte, and a node seals and opens a
// record per peer per event-loop turn. Each field of the transcript is
// length-prefixed, so no two different transcripts encode the same bytes.
// Frames are authenticated, not encrypted: peer traffic belongs on a private
// network.

import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { assert } from '../io/assert.ts';

export const NONCE_BYTES = 16;
export const PROOF_BYTES = 32;
export const FRAME_MAC_BYTES = 16;
/** Shortest cluster secret accepted. */
export const MIN_SECRET_BYTES = 16;

const PROTOCOL_LABEL = 'ringkv-peer-v2';

export interface HandshakeTranscript {
  cluster: string;
  clientId: string;
  serverId: string;
  /** The peer address the client listens on, as it announced it in its hello ('' for none). */
  clientAddress: string;
  clientNonce: Uint8Array;
  serverNonce: Uint8Array;
}

export function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES));
}

/** A fresh random cluster secret, hex-encoded (what `local-cluster` stores). */
export function generateSecretHex(): string {
  return randomBytes(32).toString('hex');
}

/** Parses a hex secret; throws a plain Error naming the problem. */
export function parseSecretHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new Error('cluster secret must be an even number of hex digits');
  const bytes = new Uint8Array(Buffer.from(hex, 'hex'));
  if (bytes.length < MIN_SECRET_BYTES) throw new Error(`cluster secret is ${bytes.length} bytes, at least ${MIN_SECRET_BYTES} are required`);
  return bytes;
}

function encodeTranscript(t: HandshakeTranscript): Buffer {
  assert(t.clientNonce.length === NONCE_BYTES && t.serverNonce.length === NONCE_BYTES, 'nonce length');
  const parts = [PROTOCOL_LABEL, t.cluster, t.clientId, t.serverId, t.clientAddress].map((s) => Buffer.from(s, 'utf8'));
  parts.push(Buffer.from(t.clientNonce), Buffer.from(t.serverNonce));
  const out: Buffer[] = [];
  for (const p of parts) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    out.push(len, p);
  }
  return Buffer.concat(out);
}

function hmac(key: Uint8Array, label: string, body: Buffer): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(label).update(body).digest());
}

export function serverProof(secret: Uint8Array, t: HandshakeTranscript): Uint8Array {
  return hmac(secret, 'server', encodeTranscript(t));
}

export function clientProof(secret: Uint8Array, t: HandshakeTranscript): Uint8Array {
  return hmac(secret, 'client', encodeTranscript(t));
}

export function sessionKey(secret: Uint8Array, t: HandshakeTranscript): Uint8Array {
  return hmac(secret, 'session', encodeTranscript(t));
}

/** Constant-time comparison of a received proof or MAC with the expected one. */
export function sameBytes(received: unknown, expected: Uint8Array): boolean {
  return received instanceof Uint8Array && received.length === expected.length && timingSafeEqual(received, expected);
}

/** SHA-256's block: HMAC pads its key to this many bytes. */
const HMAC_BLOCK_BYTES = 64;
/**
 * Bytes a sealed or opened buffer keeps free in front of the record: the
 * inner pad and `seq` are written there, so the record is hashed in place.
 */
export const MAC_PREFIX_BYTES = HMAC_BLOCK_BYTES + 8;

/** HMAC-SHA256 under one key, truncated to FRAME_MAC_BYTES, over `seq | record` laid out in place. */
export class RecordMac {
  private readonly innerPad = new Uint8Array(HMAC_BLOCK_BYTES);
  private readonly outer = Buffer.alloc(HMAC_BLOCK_BYTES + 32);

  constructor(key: Uint8Array) {
    assert(key.length === PROOF_BYTES && key.length <= HMAC_BLOCK_BYTES, 'session key length');
    for (let i = 0; i < HMAC_BLOCK_BYTES; i++) {
      const k = i < key.length ? key[i]! : 0;
      this.innerPad[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
  }

  /**
   * The MAC of `seq | buf[MAC_PREFIX_BYTES..]`. Overwrites buf[0..MAC_PREFIX_BYTES),
   * which the caller keeps free for it.
   */
  compute(seq: number, buf: Buffer): Buffer {
    assert(buf.length >= MAC_PREFIX_BYTES, 'record buffer without room for the MAC prefix');
    buf.set(this.innerPad, 0);
    // seq as a u64 in two halves: a BigInt would be a new heap number per record.
    buf.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), HMAC_BLOCK_BYTES);
    buf.writeUInt32BE(seq >>> 0, HMAC_BLOCK_BYTES + 4);
    const inner = hash('sha256', buf, 'buffer') as unknown as Buffer;
    inner.copy(this.outer, HMAC_BLOCK_BYTES);
    return (hash('sha256', this.outer, 'buffer') as unknown as Buffer).subarray(0, FRAME_MAC_BYTES);
  }
}

/** `record` copied behind a free MAC prefix. */
function withPrefix(record: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(MAC_PREFIX_BYTES + record.length);
  buf.set(record, MAC_PREFIX_BYTES);
  return buf;
}

/** Computes the MACs of one direction of a connection, in order. */
export class FrameSealer {
  private seq = 0;
  private readonly mac: RecordMac;
  constructor(key: Uint8Array) {
    this.mac = new RecordMac(key);
  }

  /** The MAC of the next record (consumes a sequence number). */
  seal(record: Uint8Array): Uint8Array {
    return this.sealInPlace(withPrefix(record));
  }

  /** As seal, for the record at buf[MAC_PREFIX_BYTES..]; overwrites the prefix. */
  sealInPlace(buf: Buffer): Buffer {
    assert(this.seq < Number.MAX_SAFE_INTEGER, 'record sequence exhausted');
    return this.mac.compute(this.seq++, buf);
  }
}

/** Checks the MACs of one direction of a connection, in order. */
export class FrameOpener {
  private seq = 0;
  private readonly mac: RecordMac;
  constructor(key: Uint8Array) {
    this.mac = new RecordMac(key);
  }

  /** Whether `mac` is right for the next record; a failure leaves the opener unusable (close the connection). */
  open(record: Uint8Array, mac: unknown): boolean {
    return this.openInPlace(withPrefix(record), mac);
  }

  /** As open, for the record at buf[MAC_PREFIX_BYTES..]; overwrites the prefix. */
  openInPlace(buf: Buffer, mac: unknown): boolean {
    assert(this.seq < Number.MAX_SAFE_INTEGER, 'record sequence exhausted');
    return sameBytes(mac, this.mac.compute(this.seq++, buf));
  }
}

/** The record MAC the slow, obvious way (createHmac); the reference RecordMac is tested against. */
export function referenceRecordMac(key: Uint8Array, seq: bigint, record: Uint8Array): Uint8Array {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(seq);
  const digest = createHmac('sha256', key).update(seqBytes).update(record).digest();
  return new Uint8Array(digest.subarray(0, FRAME_MAC_BYTES));
}
