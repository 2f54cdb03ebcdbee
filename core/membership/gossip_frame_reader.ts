// Reads a gossip payload (gossip_messages.ts's format) straight from its
// bytes into a GossipMessage, for the shape gossip_frame_writer.ts writes:
// one-letter keys, ASCII strings, integers and float64 numbers, arrays and
// maps with their usual headers, each key once, nothing after the map.
//
// It is a fast path, not a second decoder with its own rules: anything it
// does not recognise, and anything that fails a check, is handed back as null
// and the caller decodes the payload with msgpackr and validates it with
// decodeGossipPayload, which decides (and rejects garbage). So it returns a
// message only where that path would return the same one
// (gossip_frame_reader.test.ts checks the two agree over well-formed,
// mutated and random payloads).

import { type AppField, MAX_APP_FIELDS, MAX_TOKENS_PER_MEMBER, MEMBER_STATUSES, type MemberDelta, type MemberDigest, type MemberStatus, type Versioned, isValidAppKey, isValidAppValue, isValidNodeId, isValidToken, isVersion } from './member_state.ts';
import type { GossipMessage, GossipRequest } from './gossip_messages.ts';

const MAX_MEMBERS = 100_000; // gossip_messages.ts's MAX_GOSSIP_MEMBERS
const MAX_CLUSTER_NAME = 255; // gossip_messages.ts's MAX_CLUSTER_NAME_LENGTH

/** Thrown inside the reader to hand the payload to the generic path; never escapes. */
const NOT_HANDLED = Symbol('not handled');

let bytes: Uint8Array = new Uint8Array(0);
/** Over `bytes`, made only for the rare 32-bit length or float64 (one less allocation per frame). */
let view: DataView | null = null;
let pos = 0;
let end = 0;

function bail(): never {
  throw NOT_HANDLED;
}

function dataView(): DataView {
  if (view === null) view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view;
}

function byte(): number {
  if (pos >= end) bail();
  return bytes[pos++]!;
}

function mapHeader(): number {
  const h = byte();
  if (h >= 0x80 && h <= 0x8f) return h & 0x0f;
  if (h === 0xde) {
    if (pos + 2 > end) bail();
    const n = (bytes[pos]! << 8) | bytes[pos + 1]!;
    pos += 2;
    return n;
  }
  return bail();
}

function arrayHeader(): number {
  const h = byte();
  if (h >= 0x90 && h <= 0x9f) return h & 0x0f;
  if (h === 0xdc) {
    if (pos + 2 > end) bail();
    const n = (bytes[pos]! << 8) | bytes[pos + 1]!;
    pos += 2;
    return n;
  }
  if (h === 0xdd) {
    if (pos + 4 > end) bail();
    const n = dataView().getUint32(pos);
    pos += 4;
    return n;
  }
  return bail();
}

/** A one-letter key's character code. */
function key(): number {
  if (pos + 2 > end || bytes[pos] !== 0xa1) bail();
  const c = bytes[pos + 1]!;
  pos += 2;
  return c;
}

/** An ASCII string (any other text goes the generic way, whose UTF-8 decoding then decides). */
function string(): string {
  const h = byte();
  let length: number;
  if (h >= 0xa0 && h <= 0xbf) length = h & 0x1f;
  else if (h === 0xd9) length = byte();
  else if (h === 0xda) {
    if (pos + 2 > end) bail();
    length = (bytes[pos]! << 8) | bytes[pos + 1]!;
    pos += 2;
  } else return bail();
  if (pos + length > end) bail();
  let s = '';
  for (let i = pos; i < pos + length; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) bail();
    s += String.fromCharCode(c);
  }
  pos += length;
  return s;
}

function number(): number {
  const h = byte();
  if (h < 0x80) return h;
  switch (h) {
    case 0xcc:
      return byte();
    case 0xcd: {
      if (pos + 2 > end) bail();
      const n = (bytes[pos]! << 8) | bytes[pos + 1]!;
      pos += 2;
      return n;
    }
    case 0xce: {
      if (pos + 4 > end) bail();
      const n = dataView().getUint32(pos);
      pos += 4;
      return n;
    }
    case 0xcb: {
      if (pos + 8 > end) bail();
      const n = dataView().getFloat64(pos);
      pos += 8;
      return n;
    }
    default:
      return bail();
  }
}

function version(): number {
  const v = number();
  if (!isVersion(v)) bail();
  return v;
}

function nodeId(): string {
  const id = string();
  if (!isValidNodeId(id)) bail();
  return id;
}

/** Flat triples (digests, requests) of at most MAX_MEMBERS entries. */
function tripleCount(): number {
  const n = arrayHeader();
  if (n % 3 !== 0 || n / 3 > MAX_MEMBERS) bail();
  return n / 3;
}

function digests(): MemberDigest[] {
  const out: MemberDigest[] = [];
  for (let i = tripleCount(); i > 0; i--) {
    const id = nodeId();
    const generation = version();
    out.push({ nodeId: id, generation, maxVersion: version() });
  }
  return out;
}

function requests(): GossipRequest[] {
  const out: GossipRequest[] = [];
  for (let i = tripleCount(); i > 0; i--) {
    const id = nodeId();
    const generation = version();
    out.push({ nodeId: id, generation, above: version() });
  }
  return out;
}

const NO_APP_FIELDS: readonly AppField[] = Object.freeze([]);
/** Decimal digits only, no sign or leading zeros (gossip_messages.ts's rule). */
const TOKEN_TEXT = /^(0|[1-9][0-9]{0,19})$/;

function pairHeader(): void {
  if (byte() !== 0x92) bail();
}

/**
 * Token lists read before, by their bytes: every node of a cluster receives
 * every member's tokens (and again after each restart), and parsing twenty
 * decimal digits into a bigint, times the vnodes, was most of reading a
 * whole member state. The same array is returned for the same bytes, frozen
 * (states and topologies never change a tokens array in place), which also
 * lets the writer's and the topology's per-array caches hit. Bounded: it is
 * emptied when full; lists too long for a cheap key are not kept.
 */
const tokenLists = new Map<string, readonly bigint[]>();
const MAX_TOKEN_LISTS = 4096;
const MAX_KEPT_LIST_BYTES = 2048;

function tokens(): readonly bigint[] {
  const start = pos;
  const n = arrayHeader();
  if (n > MAX_TOKENS_PER_MEMBER) bail();
  // Find the list's end from the string headers alone (the texts are checked when parsed).
  const first = pos;
  for (let i = 0; i < n; i++) {
    const h = byte();
    if (h >= 0xa0 && h <= 0xbf) pos += h & 0x1f;
    else if (h === 0xd9) pos += byte();
    else bail();
    if (pos > end) bail();
  }
  const stop = pos;
  const keep = stop - start <= MAX_KEPT_LIST_BYTES;
  const key = keep ? String.fromCharCode.apply(null, bytes.subarray(start, stop) as unknown as number[]) : '';
  if (keep) {
    const known = tokenLists.get(key);
    if (known !== undefined) return known;
  }
  pos = first;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const text = string();
    if (!TOKEN_TEXT.test(text)) bail();
    const t = BigInt(text);
    if (!isValidToken(t)) bail();
    out.push(t);
  }
  const list = Object.freeze(out);
  if (keep) {
    if (tokenLists.size >= MAX_TOKEN_LISTS) tokenLists.clear();
    tokenLists.set(key, list);
  }
  return list;
}

function appFields(): AppField[] {
  const n = arrayHeader();
  if (n % 3 !== 0 || n / 3 > MAX_APP_FIELDS) bail();
  const out: AppField[] = [];
  for (let i = 0; i < n; i += 3) {
    const k = string();
    const value = string();
    if (!isValidAppKey(k) || !isValidAppValue(value)) bail();
    for (const f of out) if (f.key === k) bail();
    out.push({ key: k, value, version: version() });
  }
  return out;
}

const LETTER = { a: 0x61, b: 0x62, c: 0x63, d: 0x64, f: 0x66, g: 0x67, h: 0x68, i: 0x69, k: 0x6b, l: 0x6c, p: 0x70, r: 0x72, s: 0x73, t: 0x74, v: 0x76 } as const;

function delta(): MemberDelta {
  let id: string | undefined;
  let generation = -1;
  let from = -1;
  let heartbeat = -1;
  let status: Versioned<MemberStatus> | undefined;
  let toks: Versioned<readonly bigint[]> | undefined;
  let load: Versioned<number> | undefined;
  let app: readonly AppField[] | undefined;
  for (let n = mapHeader(); n > 0; n--) {
    switch (key()) {
      case LETTER.i:
        if (id !== undefined) bail();
        id = nodeId();
        break;
      case LETTER.g:
        if (generation !== -1) bail();
        generation = version();
        break;
      case LETTER.f:
        if (from !== -1) bail();
        from = version();
        break;
      case LETTER.h:
        if (heartbeat !== -1) bail();
        heartbeat = version();
        break;
      case LETTER.s: {
        if (status !== undefined) bail();
        pairHeader();
        const value = string() as MemberStatus;
        if (!MEMBER_STATUSES.includes(value)) bail();
        status = { value, version: version() };
        break;
      }
      case LETTER.k: {
        if (toks !== undefined) bail();
        pairHeader();
        const value = tokens();
        toks = { value, version: version() };
        break;
      }
      case LETTER.l: {
        if (load !== undefined) bail();
        pairHeader();
        const value = number();
        if (!Number.isFinite(value) || value < 0) bail();
        load = { value, version: version() };
        break;
      }
      case LETTER.a:
        if (app !== undefined) bail();
        app = appFields();
        break;
      default:
        bail();
    }
  }
  if (id === undefined || generation === -1 || from === -1 || heartbeat === -1) bail();
  // A field at or below `from` contradicts the delta's own claim (gossip_messages.ts rejects it).
  if (status !== undefined && status.version <= from) bail();
  if (toks !== undefined && toks.version <= from) bail();
  if (load !== undefined && load.version <= from) bail();
  if (app !== undefined) for (const f of app) if (f.version <= from) bail();
  return {
    nodeId: id,
    generation,
    from,
    heartbeat,
    ...(status !== undefined ? { status } : {}),
    ...(toks !== undefined ? { tokens: toks } : {}),
    ...(load !== undefined ? { load } : {}),
    app: app ?? NO_APP_FIELDS,
  };
}

function deltaMaps(): MemberDelta[] {
  const n = arrayHeader();
  if (n > MAX_MEMBERS) bail();
  const out: MemberDelta[] = [];
  for (let i = 0; i < n; i++) out.push(delta());
  return out;
}

/** Bare heartbeats appended to `out` (after the maps); every member at most once across both. */
function beatsInto(out: MemberDelta[]): void {
  const n = arrayHeader();
  if (n % 4 !== 0 || out.length + n / 4 > MAX_MEMBERS) bail();
  for (let i = 0; i < n; i += 4) {
    const id = nodeId();
    const generation = version();
    const from = version();
    out.push({ nodeId: id, generation, from, heartbeat: version(), app: NO_APP_FIELDS });
  }
  if (out.length > 1) {
    const seen = new Set<string>();
    for (const d of out) {
      if (seen.has(d.nodeId)) bail();
      seen.add(d.nodeId);
    }
  }
}

/**
 * The message in payload[start, stop), or null when the payload is not in
 * the plain shape this reader handles or fails a check (the generic path then decides).
 */
export function readGossipPayload(payload: Uint8Array, start: number, stop: number): GossipMessage | null {
  bytes = payload;
  view = null;
  pos = start;
  end = stop;
  try {
    return readMessage();
  } catch (err) {
    if (err === NOT_HANDLED) return null;
    throw err;
  } finally {
    bytes = EMPTY;
    view = null;
  }
}

const EMPTY = new Uint8Array(0);

function readMessage(): GossipMessage {
  let protocol = false;
  let wireVersion = false;
  let type: string | undefined;
  let cluster: string | undefined;
  let ds: MemberDigest[] | undefined;
  let maps: MemberDelta[] | undefined;
  let sawBeats = false;
  let rs: GossipRequest[] | undefined;
  for (let n = mapHeader(); n > 0; n--) {
    switch (key()) {
      case LETTER.p:
        if (protocol || string() !== 'gossip') bail();
        protocol = true;
        break;
      case LETTER.v:
        if (wireVersion || number() !== 1) bail();
        wireVersion = true;
        break;
      case LETTER.t:
        if (type !== undefined) bail();
        type = string();
        break;
      case LETTER.c:
        if (cluster !== undefined) bail();
        cluster = string();
        if (cluster.length > MAX_CLUSTER_NAME) bail();
        break;
      case LETTER.d:
        if (ds !== undefined) bail();
        ds = digests();
        break;
      case LETTER.s:
        // The beats follow the maps (the writer's order), so a member named twice is caught in beatsInto.
        if (maps !== undefined || sawBeats) bail();
        maps = deltaMaps();
        break;
      case LETTER.b:
        if (maps === undefined || sawBeats) bail();
        beatsInto(maps);
        sawBeats = true;
        break;
      case LETTER.r:
        if (rs !== undefined) bail();
        rs = requests();
        break;
      default:
        bail();
    }
  }
  if (pos !== end || !protocol || !wireVersion || cluster === undefined) bail();
  switch (type) {
    case 'syn':
      if (ds === undefined || maps !== undefined || rs !== undefined) bail();
      return { t: 'syn', cluster, digests: ds };
    case 'ack':
      if (!sawBeats || rs === undefined || ds !== undefined) bail();
      return { t: 'ack', cluster, deltas: maps!, requests: rs };
    case 'ack2':
      if (!sawBeats || ds !== undefined || rs !== undefined) bail();
      return { t: 'ack2', cluster, deltas: maps! };
    default:
      return bail();
  }
}
