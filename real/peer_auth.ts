// Authentication between peers: every node of a cluster holds the same
// cluster secret, and nothing without it can open a peer connection or slip
// a frame into one.
//
// A connection is opened by the sending node (the client) and carries frames
// one way, client to server. The handshake is a challenge-response over
// fresh nonces from both sides, so a recorded connection cannot be replayed:
//
//   transcript    = "ringkv-peer-v1" | cluster | client id | server id | client nonce | server nonce
//   server proof  = HMAC-SHA256(secret, "server" | transcript)   (client checks it: the server knows the secret)
//   client proof  = HMAC-SHA256(secret, "client" | transcript)   (server checks it before accepting any frame)
//   session key   = HMAC-SHA256(secret, "session" | transcript)
//   frame MAC     = first 16 bytes of HMAC-SHA256(session key, seq:u64be | frame)
//
// `seq` counts the frames of the connection from 0 and is never sent: TCP
// delivers in order, so a dropped, replayed, reordered or altered frame fails
// its MAC and the connection is closed. Each field of the transcript is
// length-prefixed, so no two different transcripts encode the same bytes.
// Frames are authenticated, not encrypted: peer traffic belongs on a private
// network.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { assert } from '../io/assert.ts';

export const NONCE_BYTES = 16;
export const PROOF_BYTES = 32;
export const FRAME_MAC_BYTES = 16;
/** Shortest cluster secret accepted. */
export const MIN_SECRET_BYTES = 16;

const PROTOCOL_LABEL = 'ringkv-peer-v1';

export interface HandshakeTranscript {
  cluster: string;
  clientId: string;
  serverId: string;
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
  const parts = [PROTOCOL_LABEL, t.cluster, t.clientId, t.serverId].map((s) => Buffer.from(s, 'utf8'));
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

/** Computes the MACs of one direction of a connection, in order. */
export class FrameSealer {
  private seq = 0n;
  constructor(private readonly key: Uint8Array) {
    assert(key.length === PROOF_BYTES, 'session key length');
  }

  /** The MAC of the next frame (consumes a sequence number). */
  seal(frame: Uint8Array): Uint8Array {
    return frameMac(this.key, this.seq++, frame);
  }
}

/** Checks the MACs of one direction of a connection, in order. */
export class FrameOpener {
  private seq = 0n;
  constructor(private readonly key: Uint8Array) {
    assert(key.length === PROOF_BYTES, 'session key length');
  }

  /** Whether `mac` is right for the next frame; a failure leaves the opener unusable (close the connection). */
  open(frame: Uint8Array, mac: unknown): boolean {
    return sameBytes(mac, frameMac(this.key, this.seq++, frame));
  }
}

function frameMac(key: Uint8Array, seq: bigint, frame: Uint8Array): Uint8Array {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(seq);
  const digest = createHmac('sha256', key).update(seqBytes).update(frame).digest();
  return new Uint8Array(digest.subarray(0, FRAME_MAC_BYTES));
}
