// Every message between store nodes, and its codec. A message travels as one
// frame (io/frame_codec.ts) whose payload is a msgpack array, its fields by
// position, so neither side handles field names:
//
//   [ v: 2, type: <code>, id: <request id>, ...fields of the type, in order ]
//
// `id` is chosen by the node that sends a request and echoed by the reply.
// A versioned value travels as a byte string holding its storage encoding
// (versioned_value.ts); an anti-entropy body as a byte string holding its
// msgpack encoding. `?` marks a field that may be nil. The decoder trusts
// nothing: a frame that does not parse, has an unknown version or type, or a
// field of the wrong shape is a WireError (the node counts it and drops the
// frame), never a crash or a half-built message.
//
//   code type           fields                                   answer
//    1   read           ks key hintFor?                          read_ok | fail
//    2   read_ok        value? complete
//                       (complete: false when the replica may have lost acknowledged
//                       writes, replica_completeness.ts: STRONG does not count it)
//    3   write          ks key value origin hintFor?             write_ok | fail
//    4   write_ok
//    5   fail           code message definite
//    6   scan           ks start? end? limit bulk                scan_ok | fail
//                       (bulk: part of a walk of everything, a rebuild's: the replica
//                       reads around its block cache, so the walk does not push out
//                       the blocks its own reads keep hot)
//    7   scan_ok        items:[[key value]...] more
//    8   forward        op ks key value? level? w? ttlMs? context? budgetMs
//                       (a siblings-mode write relayed to a home replica, which
//                       coordinates it: it holds the key's dots)  forward_reply
//    9   forward_reply  ok code? message? definite? replied? required?
//                       (all but ok nil when ok)
//   10   ping                                                    pong
//   11   pong
//   12   stream         ks ranges after? maxBytes                stream_ok | fail
//                       (one page of the records in token ranges, ring_change/range_pages.ts)
//   13   stream_ok      items:[[key value]...] next?
//   14   merkle         ks body (one anti-entropy message, antientropy/merkle_messages.ts)
//                                                                merkle_reply
//   15   merkle_reply   bodies:[body...] (the answers, possibly none)

import { assert } from '../../io/assert.ts';
import { crc32c, unmaskCrc } from '../../io/crc32c.ts';
import { FRAME_HEADER_BYTES, FRAME_MAX_PAYLOAD_BYTES, FrameError, decodeMessage, encodeFrame, encodeMessage } from '../../io/frame_codec.ts';
import { type MerkleMessage, parseMerkleMessage } from '../antientropy/merkle_messages.ts';
import { VersionFormatError } from '../versioning/errors.ts';
import { nodeIdProblem } from '../versioning/hlc.ts';
import {
  type VersionedValue,
  decodeVersionedValueAt,
  encodeVersionedValue,
  inPlaceVersionedValueLength,
  writeVersionedValueAt,
} from '../versioning/versioned_value.ts';
import { MAX_PAGE_BYTES, decodeRanges } from '../ring_change/range_pages.ts';
import { type ConsistencyLevel, isConsistencyLevel } from './consistency.ts';
import { ERROR_CODES, type ErrorCode } from './requests.ts';
import { WireError, WireReader } from './wire_reader.ts';
import { type MsgpackFrameWriter, writeFrameWith } from './msgpack_frame_writer.ts';
import { showValue } from './show_value.ts';

export const WIRE_VERSION = 2;

/** Why a replica is asked to store a version: it decides which checks apply. */
export type WriteOrigin = 'client' | 'strong' | 'repair' | 'hint';
const ORIGINS: readonly WriteOrigin[] = ['client', 'strong', 'repair', 'hint'];

export interface ForwardedWrite {
  op: 'put' | 'delete';
  ks: string;
  key: Uint8Array;
  /** The value to put; null for a delete. */
  value: Uint8Array | null;
  level: ConsistencyLevel | null;
  w: number | null;
  ttlMs: number | null;
  context: string | null;
  /** How long the receiving coordinator may take before answering. */
  budgetMs: number;
}

export type Message =
  | { t: 'read'; id: number; ks: string; key: Uint8Array; hintFor: string | null }
  | { t: 'read_ok'; id: number; value: VersionedValue | null; complete: boolean }
  | { t: 'write'; id: number; ks: string; key: Uint8Array; value: VersionedValue; origin: WriteOrigin; hintFor: string | null }
  | { t: 'write_ok'; id: number }
  | { t: 'fail'; id: number; code: ErrorCode; message: string; definite: boolean }
  | { t: 'scan'; id: number; ks: string; start: Uint8Array | null; end: Uint8Array | null; limit: number; bulk: boolean }
  | { t: 'scan_ok'; id: number; items: { key: Uint8Array; value: VersionedValue }[]; more: boolean }
  | ({ t: 'forward'; id: number } & ForwardedWrite)
  | { t: 'forward_reply'; id: number; ok: true }
  | { t: 'forward_reply'; id: number; ok: false; code: ErrorCode; message: string; definite: boolean; replied: number | null; required: number | null }
  | { t: 'ping'; id: number }
  | { t: 'pong'; id: number }
  | { t: 'stream'; id: number; ks: string; ranges: Uint8Array; after: Uint8Array | null; maxBytes: number }
  | { t: 'stream_ok'; id: number; items: { key: Uint8Array; value: VersionedValue }[]; next: Uint8Array | null }
  | { t: 'merkle'; id: number; ks: string; body: MerkleMessage }
  | { t: 'merkle_reply'; id: number; body: MerkleMessage[] };

export type MessageType = Message['t'];

export { WireError };

/** Each type's code on the wire: its index here. */
const TYPES: readonly (MessageType | undefined)[] = [
  undefined, 'read', 'read_ok', 'write', 'write_ok', 'fail', 'scan', 'scan_ok', 'forward', 'forward_reply',
  'ping', 'pong', 'stream', 'stream_ok', 'merkle', 'merkle_reply',
];
const TYPE_CODES = new Map<MessageType, number>(TYPES.flatMap((t, i) => (t === undefined ? [] : [[t, i] as const])));

/** The fields of each type in wire order (after version, type and id), as documented above. */
export const WIRE_FIELDS: Readonly<Record<MessageType, readonly string[]>> = {
  read: ['ks', 'key', 'hintFor'],
  read_ok: ['value', 'complete'],
  write: ['ks', 'key', 'value', 'origin', 'hintFor'],
  write_ok: [],
  fail: ['code', 'message', 'definite'],
  scan: ['ks', 'start', 'end', 'limit', 'bulk'],
  scan_ok: ['items', 'more'],
  forward: ['op', 'ks', 'key', 'value', 'level', 'w', 'ttlMs', 'context', 'budgetMs'],
  forward_reply: ['ok', 'code', 'message', 'definite', 'replied', 'required'],
  ping: [],
  pong: [],
  stream: ['ks', 'ranges', 'after', 'maxBytes'],
  stream_ok: ['items', 'next'],
  merkle: ['ks', 'body'],
  merkle_reply: ['body'],
};

/** Largest number of items a scan request may ask one replica for. */
export const MAX_SCAN_LIMIT = 10_000;

export function encodeWireMessage(m: Message): Uint8Array {
  // The direct writer declines only strings it cannot write as msgpackr would (a lone surrogate); msgpackr then writes the same array.
  return writeFrameWith(writeMessage, m, m.id) ?? encodeFrame(wireArray(m, m.id));
}

/**
 * encodeWireMessage({ ...request, id }) without building that object (the
 * bytes are the same).
 */
export function encodeWireRequest(request: Omit<Extract<Message, { t: 'read' | 'write' | 'scan' | 'forward' | 'ping' | 'stream' | 'merkle' }>, 'id'>, id: number): Uint8Array {
  const m = request as Message;
  if ((m as { id?: unknown }).id !== undefined) assert(false, 'a request gets its id here');
  return writeFrameWith(writeMessage, m, id) ?? encodeFrame(wireArray(m, id));
}

/** The payload as a plain array, as the writer writes it (the fallback's input). */
function wireArray(m: Message, id: number): unknown[] {
  const fields = m as unknown as Record<string, unknown>;
  const out: unknown[] = [WIRE_VERSION, TYPE_CODES.get(m.t)!, id];
  for (const f of WIRE_FIELDS[m.t]) {
    const x = fields[f] ?? null;
    if (f === 'value' && (m.t === 'read_ok' || m.t === 'write')) out.push(x === null ? null : encodeVersionedValue(x as VersionedValue));
    else if (f === 'items') out.push((x as { key: Uint8Array; value: VersionedValue }[]).map((i) => [i.key, encodeVersionedValue(i.value)]));
    else if (f === 'body') out.push(m.t === 'merkle' ? encodeMessage(m.body) : (x as MerkleMessage[]).map((b) => encodeMessage(b)));
    else out.push(x);
  }
  return out;
}

function writeMessage(out: MsgpackFrameWriter, m: Message, id: number): void {
  out.arrayHeader(3 + WIRE_FIELDS[m.t].length);
  out.number(WIRE_VERSION);
  out.number(TYPE_CODES.get(m.t)!);
  out.number(id);
  switch (m.t) {
    case 'read':
      out.string(m.ks);
      out.bin(m.key);
      return optionalString(out, m.hintFor);
    case 'read_ok':
      writeVersioned(out, m.value);
      return out.value(m.complete);
    case 'write':
      out.string(m.ks);
      out.bin(m.key);
      writeVersioned(out, m.value);
      out.string(m.origin);
      return optionalString(out, m.hintFor);
    case 'write_ok':
    case 'ping':
    case 'pong':
      return;
    case 'fail':
      out.string(m.code);
      out.string(m.message);
      return out.value(m.definite);
    case 'scan':
      out.string(m.ks);
      out.value(m.start);
      out.value(m.end);
      out.number(m.limit);
      return out.value(m.bulk);
    case 'scan_ok':
      writeItems(out, m.items);
      return out.value(m.more);
    case 'forward':
      out.string(m.op);
      out.string(m.ks);
      out.bin(m.key);
      out.value(m.value);
      out.value(m.level);
      out.value(m.w);
      out.value(m.ttlMs);
      out.value(m.context);
      return out.number(m.budgetMs);
    case 'forward_reply':
      out.value(m.ok);
      if (m.ok) for (let i = 0; i < 5; i++) out.value(null);
      else {
        out.string(m.code);
        out.string(m.message);
        out.value(m.definite);
        out.value(m.replied);
        out.value(m.required);
      }
      return;
    case 'stream':
      out.string(m.ks);
      out.bin(m.ranges);
      out.value(m.after);
      return out.number(m.maxBytes);
    case 'stream_ok':
      writeItems(out, m.items);
      return out.value(m.next);
    case 'merkle':
      out.string(m.ks);
      return out.bin(encodeMessage(m.body));
    case 'merkle_reply':
      out.arrayHeader(m.body.length);
      for (const b of m.body) out.bin(encodeMessage(b));
      return;
  }
}

function optionalString(out: MsgpackFrameWriter, s: string | null): void {
  if (s === null) out.value(null);
  else out.string(s);
}

function writeItems(out: MsgpackFrameWriter, items: readonly { key: Uint8Array; value: VersionedValue }[]): void {
  out.arrayHeader(items.length);
  for (const item of items) {
    out.arrayHeader(2);
    out.bin(item.key);
    writeVersioned(out, item.value);
  }
}

function writeVersioned(out: MsgpackFrameWriter, v: VersionedValue | null): void {
  if (v === null) return out.value(null);
  const length = inPlaceVersionedValueLength(v);
  if (length === null) return out.bin(encodeVersionedValue(v));
  out.binHeader(length);
  const end = writeVersionedValueAt(out.reserve(length), out.position, v);
  if (end !== out.position + length) assert(false, 'versioned value written to its length');
  out.advance(length);
}

/** Parses one whole frame; anything malformed is a WireError. */
export function decodeWireMessage(frame: Uint8Array): Message {
  if (frame.length < FRAME_HEADER_BYTES) throw new WireError('truncated frame');
  const length = (frame[0]! | (frame[1]! << 8) | (frame[2]! << 16) | (frame[3]! << 24)) >>> 0;
  if (length > FRAME_MAX_PAYLOAD_BYTES) throw new WireError(`frame length ${length} exceeds ${FRAME_MAX_PAYLOAD_BYTES}`);
  if (frame.length < FRAME_HEADER_BYTES + length) throw new WireError('truncated frame');
  if (frame.length > FRAME_HEADER_BYTES + length) throw new WireError(`frame carries ${frame.length - FRAME_HEADER_BYTES - length} trailing bytes`);
  const masked = (frame[4]! | (frame[5]! << 8) | (frame[6]! << 16) | (frame[7]! << 24)) >>> 0;
  if (crc32c(frame, FRAME_HEADER_BYTES, frame.length) !== unmaskCrc(masked)) throw new WireError('frame checksum mismatch');
  const r = new WireReader(frame, FRAME_HEADER_BYTES, frame.length);
  const items = r.arrayHeader('message');
  if (items < 3) throw new WireError(`message of ${items} items`);
  const v = r.number('wire version');
  if (v !== WIRE_VERSION) throw new WireError(`wire version ${showValue(v)} unsupported`);
  const code = r.number('message type');
  const t = Number.isInteger(code) ? TYPES[code] : undefined;
  if (t === undefined) throw new WireError(`message type ${showValue(code)} unknown`);
  if (items !== 3 + WIRE_FIELDS[t].length) throw new WireError(`${t} message of ${items} items`);
  const id = r.count('request id');
  const m = parseFields(r, t, id);
  r.finish();
  return m;
}

function parseFields(r: WireReader, t: MessageType, id: number): Message {
  switch (t) {
    case 'read':
      return { t, id, ks: keyspaceName(r), key: key(r), hintFor: optionalNode(r) };
    case 'read_ok':
      return { t, id, value: r.nil() ? null : versioned(r), complete: r.bool('complete') };
    case 'write': {
      const ks = keyspaceName(r);
      const k = key(r);
      const value = versioned(r);
      const origin = r.string('origin');
      if (!(ORIGINS as readonly string[]).includes(origin)) throw new WireError(`write origin ${showValue(origin)} unknown`);
      return { t, id, ks, key: k, value, origin: origin as WriteOrigin, hintFor: optionalNode(r) };
    }
    case 'write_ok':
    case 'ping':
    case 'pong':
      return { t, id };
    case 'fail':
      return { t, id, code: errorCode(r), message: r.string('message'), definite: r.bool('definite') };
    case 'scan': {
      const ks = keyspaceName(r);
      const start = optionalKey(r);
      const end = optionalKey(r);
      const limit = r.number('scan limit');
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SCAN_LIMIT) throw new WireError(`scan limit ${showValue(limit)} out of range`);
      return { t, id, ks, start, end, limit, bulk: r.bool('bulk') };
    }
    case 'scan_ok':
      return { t, id, items: recordItems(r), more: r.bool('more') };
    case 'forward': {
      const op = r.string('forward op');
      if (op !== 'put' && op !== 'delete') throw new WireError(`forward op ${showValue(op)} unknown`);
      const ks = keyspaceName(r);
      const k = key(r);
      const value = r.bytesOrNull('forward value');
      if ((op === 'put') !== (value !== null)) throw new WireError('forward value must be present exactly for a put');
      const level = r.stringOrNull('forward level');
      if (level !== null && !isConsistencyLevel(level)) throw new WireError(`forward level ${showValue(level)} unknown`);
      const w = r.nil() ? null : r.count('forward w');
      const ttlMs = r.nil() ? null : r.count('forward ttl');
      const context = r.stringOrNull('forward context');
      const budgetMs = r.number('forward budget');
      if (!Number.isFinite(budgetMs) || budgetMs <= 0 || budgetMs > 3_600_000) throw new WireError('forward budget invalid');
      return { t, id, op, ks, key: k, value, level: level as ConsistencyLevel | null, w, ttlMs, context, budgetMs };
    }
    case 'forward_reply': {
      if (r.bool('forward reply ok')) {
        for (let i = 0; i < 5; i++) if (!r.nil()) throw new WireError('a successful forward reply carries an error');
        return { t, id, ok: true };
      }
      const code = errorCode(r);
      const message = r.string('message');
      const definite = r.bool('definite');
      const replied = r.nil() ? null : r.count('replied');
      const required = r.nil() ? null : r.count('required');
      return { t, id, ok: false, code, message, definite, replied, required };
    }
    case 'stream': {
      const ks = keyspaceName(r);
      const ranges = r.bytesView('stream ranges');
      if (decodeRanges(ranges) === null) throw new WireError('stream ranges malformed');
      const after = optionalKey(r);
      const maxBytes = r.number('stream page size');
      if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_PAGE_BYTES) throw new WireError(`stream page size ${showValue(maxBytes)} out of range`);
      return { t, id, ks, ranges, after, maxBytes };
    }
    case 'stream_ok':
      return { t, id, items: recordItems(r), next: optionalKey(r) };
    case 'merkle':
      return { t, id, ks: keyspaceName(r), body: merkle(r) };
    case 'merkle_reply': {
      const n = r.arrayHeader('merkle reply bodies');
      if (n > 16) throw new WireError('merkle reply body is not a short list');
      const body: MerkleMessage[] = [];
      for (let i = 0; i < n; i++) body.push(merkle(r));
      return { t, id, body };
    }
  }
}

function recordItems(r: WireReader): { key: Uint8Array; value: VersionedValue }[] {
  const n = r.arrayHeader('items');
  const items: { key: Uint8Array; value: VersionedValue }[] = [];
  for (let i = 0; i < n; i++) {
    if (r.arrayHeader('item') !== 2) throw new WireError('item is not [key, value]');
    items.push({ key: key(r), value: versioned(r) });
  }
  return items;
}

function keyspaceName(r: WireReader): string {
  const x = r.string('keyspace');
  if (x.length === 0 || x.length > 256) throw new WireError('keyspace name invalid');
  return x;
}

function key(r: WireReader): Uint8Array {
  const x = r.bytesView('key');
  if (x.length === 0) throw new WireError('key is not non-empty bytes');
  return x;
}

function optionalKey(r: WireReader): Uint8Array | null {
  return r.nil() ? null : key(r);
}

function optionalNode(r: WireReader): string | null {
  if (r.nil()) return null;
  const x = r.string('hint target');
  const problem = nodeIdProblem(x);
  if (problem !== null) throw new WireError(`hint target: ${problem}`);
  return x;
}

function versioned(r: WireReader): VersionedValue {
  try {
    return r.bytesWith('versioned value', decodeVersionedValueAt);
  } catch (err) {
    if (err instanceof VersionFormatError) throw new WireError(`versioned value: ${err.message}`);
    throw err;
  }
}

function merkle(r: WireReader): MerkleMessage {
  let raw: unknown;
  try {
    raw = decodeMessage(r.bytesView('merkle body'));
  } catch (err) {
    if (err instanceof FrameError) throw new WireError(`merkle body: ${err.message}`);
    throw err;
  }
  const m = parseMerkleMessage(raw);
  if (m === null) throw new WireError('malformed merkle message');
  return m;
}

function errorCode(r: WireReader): ErrorCode {
  const x = r.string('error code');
  if (!(ERROR_CODES as readonly string[]).includes(x)) throw new WireError(`error code ${showValue(x)} unknown`);
  return x as ErrorCode;
}
