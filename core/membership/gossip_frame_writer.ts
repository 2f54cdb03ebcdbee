// Writes a gossip message straight into its frame (io/frame_codec.ts's
// header, then the msgpack payload gossip_messages.ts documents), without
// building the payload object and walking it with msgpackr's generic
// encoder: gossip sends a few messages per node per second, each a handful of
// short strings and small integers, and the generic path (objects built,
// then packed key by key) cost more than everything else gossip does.
//
// The bytes are exactly msgpackr's for the same payload (its configuration in
// io/frame_codec.ts: plain maps always with a map16 header, integers below 128
// as fixints, other non-uint32 numbers as float64, strings by UTF-8 length),
// so the wire format and every trace hash stay what they were;
// gossip_frame_writer.test.ts compares the two over random messages.

import { assert } from '../../io/assert.ts';
import { crc32c, maskCrc } from '../../io/crc32c.ts';
import { FRAME_HEADER_BYTES, FRAME_MAX_PAYLOAD_BYTES } from '../../io/frame_codec.ts';
import type { GossipMessage, GossipRequest } from './gossip_messages.ts';
import type { MemberDelta, MemberDigest } from './member_state.ts';

// One scratch buffer, reused: a message is written synchronously and copied
// out whole, so nothing else can write into it meanwhile.
let buf = new Uint8Array(4096);
let view = new DataView(buf.buffer);
let pos = 0;

const textEncoder = new TextEncoder();

function reserve(bytes: number): void {
  if (pos + bytes <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + bytes) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(buf.subarray(0, pos));
  buf = grown;
  view = new DataView(buf.buffer);
}

function writeMapHeader(entries: number): void {
  // msgpackr writes every plain object with a map16 header (it fills the count in afterwards).
  reserve(3);
  buf[pos++] = 0xde;
  buf[pos++] = entries >> 8;
  buf[pos++] = entries & 0xff;
}

function writeArrayHeader(length: number): void {
  reserve(5);
  if (length < 0x10) {
    buf[pos++] = 0x90 | length;
  } else if (length < 0x10000) {
    buf[pos++] = 0xdc;
    buf[pos++] = length >> 8;
    buf[pos++] = length & 0xff;
  } else {
    buf[pos++] = 0xdd;
    view.setUint32(pos, length);
    pos += 4;
  }
}

function writeNumber(value: number): void {
  reserve(9);
  if (value >>> 0 === value) {
    if (value < 0x80) {
      buf[pos++] = value;
    } else if (value < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = value;
    } else if (value < 0x10000) {
      buf[pos++] = 0xcd;
      buf[pos++] = value >> 8;
      buf[pos++] = value & 0xff;
    } else {
      buf[pos++] = 0xce;
      view.setUint32(pos, value);
      pos += 4;
    }
  } else if (value >> 0 === value) {
    if (value >= -0x20) {
      buf[pos++] = 0x100 + value;
    } else if (value >= -0x80) {
      buf[pos++] = 0xd0;
      buf[pos++] = value + 0x100;
    } else if (value >= -0x8000) {
      buf[pos++] = 0xd1;
      view.setInt16(pos, value);
      pos += 2;
    } else {
      buf[pos++] = 0xd2;
      view.setInt32(pos, value);
      pos += 4;
    }
  } else {
    buf[pos++] = 0xcb;
    view.setFloat64(pos, value);
    pos += 8;
  }
}

/**
 * msgpackr's string: a header sized from the UTF-16 length is assumed, the
 * bytes are written after it (by hand below 64 code units, a lone surrogate
 * as three bytes as msgpackr does; by TextEncoder above, as msgpackr's
 * utf8Write), then the header is fitted to the byte length.
 */
function writeString(s: string): void {
  const units = s.length;
  const assumed = units < 0x20 ? 1 : units < 0x100 ? 2 : units < 0x10000 ? 3 : 5;
  reserve(assumed + units * 3);
  const start = pos + assumed;
  let length: number;
  if (units < 0x40) {
    let p = start;
    for (let i = 0; i < units; i++) {
      let c1 = s.charCodeAt(i);
      let c2: number;
      if (c1 < 0x80) {
        buf[p++] = c1;
      } else if (c1 < 0x800) {
        buf[p++] = (c1 >> 6) | 0xc0;
        buf[p++] = (c1 & 0x3f) | 0x80;
      } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
        c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
        i++;
        buf[p++] = (c1 >> 18) | 0xf0;
        buf[p++] = ((c1 >> 12) & 0x3f) | 0x80;
        buf[p++] = ((c1 >> 6) & 0x3f) | 0x80;
        buf[p++] = (c1 & 0x3f) | 0x80;
      } else {
        buf[p++] = (c1 >> 12) | 0xe0;
        buf[p++] = ((c1 >> 6) & 0x3f) | 0x80;
        buf[p++] = (c1 & 0x3f) | 0x80;
      }
    }
    length = p - start;
  } else {
    length = textEncoder.encodeInto(s, buf.subarray(start)).written;
  }
  const header = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  if (header !== assumed) buf.copyWithin(pos + header, start, start + length);
  if (header === 1) {
    buf[pos] = 0xa0 | length;
  } else if (header === 2) {
    buf[pos] = 0xd9;
    buf[pos + 1] = length;
  } else if (header === 3) {
    buf[pos] = 0xda;
    buf[pos + 1] = length >> 8;
    buf[pos + 2] = length & 0xff;
  } else {
    buf[pos] = 0xdb;
    view.setUint32(pos + 1, length);
  }
  pos += header + length;
}

/** The one-letter key of a payload or delta field. */
function writeKey(letter: string): void {
  reserve(2);
  buf[pos++] = 0xa1;
  buf[pos++] = letter.charCodeAt(0);
}

function writeBytes(bytes: Uint8Array): void {
  reserve(bytes.length);
  buf.set(bytes, pos);
  pos += bytes.length;
}

/**
 * A tokens list as decimal strings, encoded once per tokens array: a
 * member's tokens array is replaced, never changed in place, and a member's
 * whole state goes out again and again (to each peer that learns of it).
 */
const tokenListBytes = new WeakMap<readonly bigint[], Uint8Array>();

function writeTokens(tokens: readonly bigint[]): void {
  let bytes = tokenListBytes.get(tokens);
  if (bytes === undefined) {
    const mark = pos;
    writeArrayHeader(tokens.length);
    for (const t of tokens) writeString(t.toString());
    bytes = buf.slice(mark, pos);
    pos = mark;
    tokenListBytes.set(tokens, bytes);
  }
  writeBytes(bytes);
}

const hasFields = (d: MemberDelta): boolean => d.status !== undefined || d.tokens !== undefined || d.load !== undefined || d.app.length > 0;

function writeDelta(d: MemberDelta): void {
  writeMapHeader(4 + (d.status !== undefined ? 1 : 0) + (d.tokens !== undefined ? 1 : 0) + (d.load !== undefined ? 1 : 0) + (d.app.length > 0 ? 1 : 0));
  writeKey('i');
  writeString(d.nodeId);
  writeKey('g');
  writeNumber(d.generation);
  writeKey('f');
  writeNumber(d.from);
  writeKey('h');
  writeNumber(d.heartbeat);
  if (d.status !== undefined) {
    writeKey('s');
    writeArrayHeader(2);
    writeString(d.status.value);
    writeNumber(d.status.version);
  }
  if (d.tokens !== undefined) {
    writeKey('k');
    writeArrayHeader(2);
    writeTokens(d.tokens.value);
    writeNumber(d.tokens.version);
  }
  if (d.load !== undefined) {
    writeKey('l');
    writeArrayHeader(2);
    writeNumber(d.load.value);
    writeNumber(d.load.version);
  }
  if (d.app.length > 0) {
    writeKey('a');
    writeArrayHeader(3 * d.app.length);
    for (const f of d.app) {
      writeString(f.key);
      writeString(f.value);
      writeNumber(f.version);
    }
  }
}

/** s: the deltas with fields, as maps; b: the bare heartbeats, four scalars each. */
function writeDeltas(deltas: readonly MemberDelta[]): void {
  let withFields = 0;
  for (const d of deltas) if (hasFields(d)) withFields++;
  writeKey('s');
  writeArrayHeader(withFields);
  if (withFields > 0) for (const d of deltas) if (hasFields(d)) writeDelta(d);
  writeKey('b');
  writeArrayHeader(4 * (deltas.length - withFields));
  for (const d of deltas) {
    if (hasFields(d)) continue;
    writeString(d.nodeId);
    writeNumber(d.generation);
    writeNumber(d.from);
    writeNumber(d.heartbeat);
  }
}

function writeDigests(digests: readonly MemberDigest[]): void {
  writeArrayHeader(3 * digests.length);
  for (const d of digests) {
    writeString(d.nodeId);
    writeNumber(d.generation);
    writeNumber(d.maxVersion);
  }
}

function writeRequests(requests: readonly GossipRequest[]): void {
  writeArrayHeader(3 * requests.length);
  for (const r of requests) {
    writeString(r.nodeId);
    writeNumber(r.generation);
    writeNumber(r.above);
  }
}

/** The frame of one gossip message: the bytes encodeFrame(encodeGossipPayload(m)) gives. */
export function writeGossipFrame(m: GossipMessage): Uint8Array {
  pos = FRAME_HEADER_BYTES;
  writeMapHeader(m.t === 'syn' ? 5 : m.t === 'ack' ? 7 : 6);
  writeKey('p');
  writeString('gossip');
  writeKey('v');
  writeNumber(1);
  writeKey('t');
  writeString(m.t);
  writeKey('c');
  writeString(m.cluster);
  switch (m.t) {
    case 'syn':
      writeKey('d');
      writeDigests(m.digests);
      break;
    case 'ack':
      writeDeltas(m.deltas);
      writeKey('r');
      writeRequests(m.requests);
      break;
    case 'ack2':
      writeDeltas(m.deltas);
      break;
  }
  const payloadBytes = pos - FRAME_HEADER_BYTES;
  assert(payloadBytes <= FRAME_MAX_PAYLOAD_BYTES, 'gossip frame payload over the frame limit');
  view.setUint32(0, payloadBytes, true);
  view.setUint32(4, maskCrc(crc32c(buf, FRAME_HEADER_BYTES, pos)), true);
  return buf.slice(0, pos);
}
