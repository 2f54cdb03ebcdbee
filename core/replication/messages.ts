// Every message between store nodes, and its codec. A message travels as one
// frame (io/frame_codec.ts) whose payload is a msgpack map:
//
//   { v: 1, t: <type>, id: <request id>, ...fields }
//
// `id` is chosen by the node that sends a request and echoed by the reply; a
// versioned value travels as its storage encoding (versioned_value.ts). The
// decoder trusts nothing: a frame that does not parse, has an unknown
// version or type, or a field of the wrong shape is a WireError (the node
// counts it and drops the frame), never a crash or a half-built message.
//
//   read          ks key hintFor?          -> read_ok value|null complete | fail
//                 (complete: false when the replica may have lost acknowledged
//                 writes, replica_completeness.ts: STRONG does not count it)
//   write         ks key value origin hintFor? -> write_ok | fail
//   scan          ks start? end? limit     -> scan_ok items more | fail
//   forward       a siblings-mode write relayed to a home replica, which
//                 coordinates it (it holds the key's dots)  -> forward_reply
//   ping                                    -> pong
//   stream        ks ranges after? maxBytes -> stream_ok items next | fail
//                 (one page of the records in token ranges, ring_change/range_pages.ts)
//   merkle        ks body (one anti-entropy message, antientropy/merkle_messages.ts)
//                                           -> merkle_reply body[] (the answers, possibly none)

import { assert } from '../../io/assert.ts';
import { crc32c, unmaskCrc } from '../../io/crc32c.ts';
import { FRAME_HEADER_BYTES, FRAME_MAX_PAYLOAD_BYTES, FrameError, decodeFrame, encodeFrame } from '../../io/frame_codec.ts';
import { type MerkleMessage, parseMerkleMessage } from '../antientropy/merkle_messages.ts';
import { VersionFormatError } from '../versioning/errors.ts';
import { nodeIdProblem } from '../versioning/hlc.ts';
import {
  type VersionedValue,
  decodeVersionedValue,
  encodeVersionedValue,
  inPlaceVersionedValueLength,
  writeVersionedValueAt,
} from '../versioning/versioned_value.ts';
import { MAX_PAGE_BYTES, decodeRanges } from '../ring_change/range_pages.ts';
import { type ConsistencyLevel, isConsistencyLevel } from './consistency.ts';
import { ERROR_CODES, type ErrorCode } from './requests.ts';
import { readFlatMsgpackMap } from './flat_msgpack_map.ts';
import { type MsgpackFrameWriter, writeFrame } from './msgpack_frame_writer.ts';
import { showValue } from './show_value.ts';

export const WIRE_VERSION = 1;

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
  | { t: 'scan'; id: number; ks: string; start: Uint8Array | null; end: Uint8Array | null; limit: number }
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

export class WireError extends Error {
  override name = 'WireError';
}

/** Largest number of items a scan request may ask one replica for. */
export const MAX_SCAN_LIMIT = 10_000;

export function encodeWireMessage(m: Message): Uint8Array {
  // The direct writer produces the same bytes as encodeFrame(wirePayload(m)); it declines only values it does not cover.
  return writeFrame((out) => writeWireMessage(out, m)) ?? encodeFrame(wirePayload(m));
}

/**
 * encodeWireMessage({ ...request, id }) without building that object: the
 * request's fields in their order, then `id` (the bytes are the same).
 */
export function encodeWireRequest(request: Omit<Extract<Message, { t: 'read' | 'write' | 'scan' | 'forward' | 'ping' | 'stream' | 'merkle' }>, 'id'>, id: number): Uint8Array {
  const m = request as Message;
  assert((m as { id?: unknown }).id === undefined, 'a request gets its id here');
  return writeFrame((out) => writeWireMessage(out, m, id)) ?? encodeFrame(wirePayload({ ...m, id }));
}

/** The payload as a plain object: `v` first, then the message's fields, versioned values as their stored bytes. */
function wirePayload(m: Message): Record<string, unknown> {
  const out: Record<string, unknown> = { v: WIRE_VERSION };
  for (const [k, value] of Object.entries(m)) {
    if (value === undefined) continue;
    out[k] = value;
  }
  if (m.t === 'read_ok') out['value'] = m.value === null ? null : encodeVersionedValue(m.value);
  if (m.t === 'write') out['value'] = encodeVersionedValue(m.value);
  if (m.t === 'scan_ok' || m.t === 'stream_ok') out['items'] = m.items.map((i) => [i.key, encodeVersionedValue(i.value)]);
  return out;
}

/** Writes wirePayload(m) without building it: versioned values go straight into the frame. */
function writeWireMessage(out: MsgpackFrameWriter, m: Message, id?: number): void {
  const fields = m as unknown as Record<string, unknown>;
  const keys = Object.keys(fields);
  let size = id === undefined ? 1 : 2;
  for (const k of keys) if (fields[k] !== undefined) size++;
  out.mapHeader(size);
  out.string('v');
  out.number(WIRE_VERSION);
  for (const k of keys) {
    const value = fields[k];
    if (value === undefined) continue;
    out.string(k);
    if (k === 'value' && (m.t === 'read_ok' || m.t === 'write')) writeVersioned(out, m.value);
    else if (k === 'items' && (m.t === 'scan_ok' || m.t === 'stream_ok')) {
      out.arrayHeader(m.items.length);
      for (const item of m.items) {
        out.arrayHeader(2);
        out.bin(item.key);
        writeVersioned(out, item.value);
      }
    } else out.value(value);
  }
  if (id !== undefined) {
    out.string('id');
    out.number(id);
  }
}

function writeVersioned(out: MsgpackFrameWriter, v: VersionedValue | null): void {
  if (v === null) return out.value(null);
  const length = inPlaceVersionedValueLength(v);
  if (length === null) return out.bin(encodeVersionedValue(v));
  out.binHeader(length);
  const end = writeVersionedValueAt(out.reserve(length), out.position, v);
  assert(end === out.position + length, 'versioned value written to its length');
  out.advance(length);
}

/** Parses one whole frame; anything malformed is a WireError. */
export function decodeWireMessage(frame: Uint8Array): Message {
  // Most messages are one flat map: read it directly when the frame is whole and intact; anything else takes msgpackr.
  const flat = intactFrame(frame) ? readFlatMsgpackMap(frame, FRAME_HEADER_BYTES, frame.length) : null;
  if (flat !== null) return parseMessage(flat);
  let decoded: { message: unknown; used: number } | null;
  try {
    decoded = decodeFrame(frame);
  } catch (err) {
    if (err instanceof FrameError) throw new WireError(err.message);
    throw err;
  }
  if (decoded === null) throw new WireError('truncated frame');
  if (decoded.used !== frame.length) throw new WireError(`frame carries ${frame.length - decoded.used} trailing bytes`);
  return parseMessage(decoded.message);
}

/** Whether `frame` is exactly one frame whose length and checksum hold (decodeFrame says why when not). */
function intactFrame(frame: Uint8Array): boolean {
  if (frame.length < FRAME_HEADER_BYTES) return false;
  const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
  const length = view.getUint32(0, true);
  if (length !== frame.length - FRAME_HEADER_BYTES || length > FRAME_MAX_PAYLOAD_BYTES) return false;
  return crc32c(frame, FRAME_HEADER_BYTES, frame.length) === unmaskCrc(view.getUint32(4, true));
}

function parseMessage(raw: unknown): Message {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) throw new WireError('message is not a map');
  const r = raw as Record<string, unknown>;
  if (r['v'] !== WIRE_VERSION) throw new WireError(`wire version ${showValue(r['v'])} unsupported`);
  const t = r['t'];
  const id = requestId(r['id']);
  switch (t) {
    case 'read':
      return { t, id, ks: keyspaceName(r['ks']), key: bytes(r['key'], 'key'), hintFor: optionalNode(r['hintFor']) };
    case 'read_ok':
      return { t, id, value: r['value'] === null ? null : versioned(r['value']), complete: bool(r['complete']) };
    case 'write': {
      const origin = r['origin'];
      if (!(ORIGINS as readonly unknown[]).includes(origin)) throw new WireError(`write origin ${showValue(origin)} unknown`);
      return { t, id, ks: keyspaceName(r['ks']), key: bytes(r['key'], 'key'), value: versioned(r['value']), origin: origin as WriteOrigin, hintFor: optionalNode(r['hintFor']) };
    }
    case 'write_ok':
    case 'ping':
    case 'pong':
      return { t, id };
    case 'fail':
      return { t, id, code: errorCode(r['code']), message: text(r['message']), definite: bool(r['definite']) };
    case 'scan': {
      const limit = r['limit'];
      if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_SCAN_LIMIT) throw new WireError(`scan limit ${showValue(limit)} out of range`);
      return { t, id, ks: keyspaceName(r['ks']), start: optionalBytes(r['start']), end: optionalBytes(r['end']), limit: limit as number };
    }
    case 'scan_ok': {
      const items = r['items'];
      if (!Array.isArray(items)) throw new WireError('scan items are not a list');
      const parsed = items.map((item) => {
        if (!Array.isArray(item) || item.length !== 2) throw new WireError('scan item is not [key, value]');
        return { key: bytes(item[0], 'key'), value: versioned(item[1]) };
      });
      return { t, id, items: parsed, more: bool(r['more']) };
    }
    case 'forward': {
      const op = r['op'];
      if (op !== 'put' && op !== 'delete') throw new WireError(`forward op ${showValue(op)} unknown`);
      const level = r['level'];
      if (level !== null && !isConsistencyLevel(level)) throw new WireError(`forward level ${showValue(level)} unknown`);
      const budgetMs = r['budgetMs'];
      if (typeof budgetMs !== 'number' || !Number.isFinite(budgetMs) || budgetMs <= 0 || budgetMs > 3_600_000) throw new WireError('forward budget invalid');
      const value = r['value'] === null ? null : valueBytes(r['value']);
      if ((op === 'put') !== (value !== null)) throw new WireError('forward value must be present exactly for a put');
      return {
        t,
        id,
        op,
        ks: keyspaceName(r['ks']),
        key: bytes(r['key'], 'key'),
        value,
        level: level as ConsistencyLevel | null,
        w: optionalCount(r['w']),
        ttlMs: optionalCount(r['ttlMs']),
        context: r['context'] === null ? null : text(r['context']),
        budgetMs,
      };
    }
    case 'forward_reply': {
      if (r['ok'] === true) return { t, id, ok: true };
      if (r['ok'] !== false) throw new WireError('forward reply ok is not a boolean');
      return {
        t,
        id,
        ok: false,
        code: errorCode(r['code']),
        message: text(r['message']),
        definite: bool(r['definite']),
        replied: optionalCount(r['replied']),
        required: optionalCount(r['required']),
      };
    }
    case 'stream': {
      const ranges = r['ranges'];
      if (!(ranges instanceof Uint8Array) || decodeRanges(ranges) === null) throw new WireError('stream ranges malformed');
      const maxBytes = r['maxBytes'];
      if (!Number.isInteger(maxBytes) || (maxBytes as number) < 1 || (maxBytes as number) > MAX_PAGE_BYTES) throw new WireError(`stream page size ${showValue(maxBytes)} out of range`);
      return { t, id, ks: keyspaceName(r['ks']), ranges: valueBytes(ranges), after: optionalBytes(r['after']), maxBytes: maxBytes as number };
    }
    case 'stream_ok':
      return { t, id, items: recordItems(r['items']), next: optionalBytes(r['next']) };
    case 'merkle':
      return { t, id, ks: keyspaceName(r['ks']), body: merkle(r['body']) };
    case 'merkle_reply': {
      const body = r['body'];
      if (!Array.isArray(body) || body.length > 16) throw new WireError('merkle reply body is not a short list');
      return { t, id, body: body.map(merkle) };
    }
    default:
      throw new WireError(`message type ${showValue(t)} unknown`);
  }
}

function recordItems(items: unknown): { key: Uint8Array; value: VersionedValue }[] {
  if (!Array.isArray(items)) throw new WireError('items are not a list');
  return items.map((item) => {
    if (!Array.isArray(item) || item.length !== 2) throw new WireError('item is not [key, value]');
    return { key: bytes(item[0], 'key'), value: versioned(item[1]) };
  });
}

function requestId(x: unknown): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new WireError(`request id ${showValue(x)} invalid`);
  return x;
}

function keyspaceName(x: unknown): string {
  if (typeof x !== 'string' || x.length === 0 || x.length > 256) throw new WireError('keyspace name invalid');
  return x;
}

function bytes(x: unknown, what: string): Uint8Array {
  if (!(x instanceof Uint8Array) || x.length === 0) throw new WireError(`${what} is not non-empty bytes`);
  // msgpackr hands back Buffers; handlers get plain views.
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

function valueBytes(x: unknown): Uint8Array {
  if (!(x instanceof Uint8Array)) throw new WireError('value is not bytes');
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

function optionalBytes(x: unknown): Uint8Array | null {
  return x === null || x === undefined ? null : bytes(x, 'bound');
}

function optionalNode(x: unknown): string | null {
  if (x === null || x === undefined) return null;
  const problem = nodeIdProblem(x);
  if (problem !== null) throw new WireError(`hint target: ${problem}`);
  return x as string;
}

function optionalCount(x: unknown): number | null {
  if (x === null || x === undefined) return null;
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new WireError(`count ${showValue(x)} invalid`);
  return x;
}

function versioned(x: unknown): VersionedValue {
  try {
    return decodeVersionedValue(bytes(x, 'versioned value'));
  } catch (err) {
    if (err instanceof VersionFormatError) throw new WireError(`versioned value: ${err.message}`);
    throw err;
  }
}

function merkle(x: unknown): MerkleMessage {
  const m = parseMerkleMessage(x);
  if (m === null) throw new WireError('malformed merkle message');
  return m;
}

function text(x: unknown): string {
  if (typeof x !== 'string') throw new WireError('expected a string');
  return x;
}

function bool(x: unknown): boolean {
  if (typeof x !== 'boolean') throw new WireError('expected a boolean');
  return x;
}

function errorCode(x: unknown): ErrorCode {
  if (!(ERROR_CODES as readonly unknown[]).includes(x)) throw new WireError(`error code ${showValue(x)} unknown`);
  return x as ErrorCode;
}

