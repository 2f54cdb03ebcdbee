// Gossip messages and their codec. One exchange is Cassandra's three-way
// handshake: A sends SYN (a digest per member it knows), B answers ACK (the
// deltas A lacks, and requests for what B lacks), A answers ACK2 (the
// deltas B requested). Each message is one frame (io/frame_codec.ts) whose
// payload is a msgpack map tagged with the protocol, so gossip can share a
// node's network with other protocols:
//
//   { p: 'gossip', v: 1, t: 'syn',  c: cluster, d: [id, generation, maxVersion, ...] }
//   { p: 'gossip', v: 1, t: 'ack',  c: cluster, s: [delta, ...], b: [beat, ...], r: [id, generation, above, ...] }
//   { p: 'gossip', v: 1, t: 'ack2', c: cluster, s: [delta, ...], b: [beat, ...] }
//
//   delta := { i: id, g: generation, f: from, h: heartbeat,
//              s?: [status, version], k?: [[token as decimal string, ...], version],
//              l?: [load, version], a?: [key, value, version, ...] }
//   beat  := id, generation, from, heartbeat   (four scalars of the flat list b:
//            a delta that carries the heartbeat and no field)
//
// Digests, requests and beats are flat lists of scalars, the cheapest shape
// for msgpack: once a cluster has settled nearly every delta is a heartbeat
// alone, and a SYN to a thousand-node cluster holds a thousand digests. A
// request asks for the member's writes above `above` in `generation` (0: the
// whole state). A message names a member at most once across s and b.
// Tokens travel as decimal strings: msgpack has no unsigned 64-bit type that
// every decoder maps to bigint. The decoder trusts nothing: anything that
// does not parse, has an unknown version or type, or a field of the wrong
// shape or size is a GossipWireError, never a crash or a half-built message.
// Unknown extra keys are ignored, so a later version may add fields.
//
// The frames gossip itself sends are written and read without the generic
// msgpack path (gossip_frame_writer.ts, gossip_frame_reader.ts): the same
// bytes, a fraction of the CPU; anything else is decoded here.

import { crc32c, unmaskCrc } from '../../io/crc32c.ts';
import { FRAME_HEADER_BYTES, FRAME_MAX_PAYLOAD_BYTES, FrameError, decodeFrame, decodeMessage, encodeFrame } from '../../io/frame_codec.ts';
import { readGossipPayload } from './gossip_frame_reader.ts';
import { writeGossipFrame } from './gossip_frame_writer.ts';
import {
  type AppField,
  MAX_APP_FIELDS,
  MAX_TOKENS_PER_MEMBER,
  MEMBER_STATUSES,
  type MemberDelta,
  type MemberDigest,
  type MemberStatus,
  type Versioned,
  isValidAppKey,
  isValidAppValue,
  isValidNodeId,
  isValidToken,
  isVersion,
} from './member_state.ts';

export const GOSSIP_PROTOCOL = 'gossip';
export const GOSSIP_WIRE_VERSION = 1;
/** Members one message may describe: far above any cluster this store runs, low enough to bound a decoder's work. */
export const MAX_GOSSIP_MEMBERS = 100_000;
export const MAX_CLUSTER_NAME_LENGTH = 255;

/** Asks for a member's writes above `above` in `generation`. */
export interface GossipRequest {
  readonly nodeId: string;
  readonly generation: number;
  readonly above: number;
}

export type GossipMessage =
  | { readonly t: 'syn'; readonly cluster: string; readonly digests: readonly MemberDigest[] }
  | { readonly t: 'ack'; readonly cluster: string; readonly deltas: readonly MemberDelta[]; readonly requests: readonly GossipRequest[] }
  | { readonly t: 'ack2'; readonly cluster: string; readonly deltas: readonly MemberDelta[] };

export class GossipWireError extends Error {
  override name = 'GossipWireError';
}

// ---- encoding ----

function encodeDelta(d: MemberDelta): Record<string, unknown> {
  const out: Record<string, unknown> = { i: d.nodeId, g: d.generation, f: d.from, h: d.heartbeat };
  if (d.status !== undefined) out['s'] = [d.status.value, d.status.version];
  if (d.tokens !== undefined) out['k'] = [d.tokens.value.map((t) => t.toString()), d.tokens.version];
  if (d.load !== undefined) out['l'] = [d.load.value, d.load.version];
  if (d.app.length > 0) {
    const flat: unknown[] = [];
    for (const f of d.app) flat.push(f.key, f.value, f.version);
    out['a'] = flat;
  }
  return out;
}

const hasFields = (d: MemberDelta): boolean => d.status !== undefined || d.tokens !== undefined || d.load !== undefined || d.app.length > 0;

/** The deltas as maps (s) and bare heartbeats (b). */
function encodeDeltas(out: Record<string, unknown>, deltas: readonly MemberDelta[]): void {
  const maps: Record<string, unknown>[] = [];
  const beats: unknown[] = [];
  for (const d of deltas) {
    if (hasFields(d)) maps.push(encodeDelta(d));
    else beats.push(d.nodeId, d.generation, d.from, d.heartbeat);
  }
  out['s'] = maps;
  out['b'] = beats;
}

function flatTriples<T>(items: readonly T[], parts: (item: T) => [string, number, number]): unknown[] {
  const flat: unknown[] = [];
  for (const item of items) flat.push(...parts(item));
  return flat;
}

export function encodeGossipPayload(m: GossipMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { p: GOSSIP_PROTOCOL, v: GOSSIP_WIRE_VERSION, t: m.t, c: m.cluster };
  switch (m.t) {
    case 'syn':
      out['d'] = flatTriples(m.digests, (d) => [d.nodeId, d.generation, d.maxVersion]);
      break;
    case 'ack':
      encodeDeltas(out, m.deltas);
      out['r'] = flatTriples(m.requests, (r) => [r.nodeId, r.generation, r.above]);
      break;
    case 'ack2':
      encodeDeltas(out, m.deltas);
      break;
  }
  return out;
}

/** The message's frame, written directly (gossip_frame_writer.ts): the bytes of encodeFrame(encodeGossipPayload(m)). */
export function encodeGossipFrame(m: GossipMessage): Uint8Array {
  return writeGossipFrame(m);
}

/** The generic encoding of the same payload, which the direct writer must match byte for byte (tests). */
export function encodeGossipFrameGeneric(m: GossipMessage): Uint8Array {
  return encodeFrame(encodeGossipPayload(m));
}

// ---- decoding ----

function fail(what: string): never {
  throw new GossipWireError(what);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

function field(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function version(x: unknown, what: string): number {
  if (!isVersion(x)) fail(`${what}: not a version`);
  return x;
}

function nodeId(x: unknown, what: string): string {
  if (!isValidNodeId(x)) fail(`${what}: not a node id`);
  return x;
}

function pair(x: unknown, what: string): [unknown, number] {
  if (!Array.isArray(x) || x.length !== 2) fail(`${what}: not a [value, version] pair`);
  return [x[0], version(x[1], `${what} version`)];
}

function triples<T>(x: unknown, what: string, build: (id: string, generation: number, n: number) => T): T[] {
  if (!Array.isArray(x) || x.length % 3 !== 0) fail(`${what}: not a list of triples`);
  if (x.length / 3 > MAX_GOSSIP_MEMBERS) fail(`${what}: more than ${MAX_GOSSIP_MEMBERS} entries`);
  const out: T[] = [];
  for (let i = 0; i < x.length; i += 3) {
    out.push(build(nodeId(x[i], what), version(x[i + 1], `${what} generation`), version(x[i + 2], what)));
  }
  return out;
}

/** Decimal digits only, no sign or leading zeros: one spelling per token. */
const TOKEN_TEXT = /^(0|[1-9][0-9]{0,19})$/;

function tokens(x: unknown, what: string): bigint[] {
  if (!Array.isArray(x)) fail(`${what}: tokens not a list`);
  if (x.length > MAX_TOKENS_PER_MEMBER) fail(`${what}: ${x.length} tokens`);
  return x.map((t) => {
    if (typeof t !== 'string' || !TOKEN_TEXT.test(t)) fail(`${what}: token not a decimal string`);
    const token = BigInt(t);
    if (!isValidToken(token)) fail(`${what}: token outside [0, 2^64)`);
    return token;
  });
}

const NO_APP_FIELDS: readonly AppField[] = Object.freeze([]);

function appFields(a: unknown, id: string): AppField[] {
  if (!Array.isArray(a) || a.length % 3 !== 0) fail(`delta ${id}: application states not a list of triples`);
  if (a.length / 3 > MAX_APP_FIELDS) fail(`delta ${id}: more than ${MAX_APP_FIELDS} application states`);
  const out: AppField[] = [];
  const keys = new Set<string>();
  for (let i = 0; i < a.length; i += 3) {
    const key = a[i];
    const value = a[i + 1];
    if (!isValidAppKey(key)) fail(`delta ${id}: bad application state key`);
    if (!isValidAppValue(value)) fail(`delta ${id}: bad application state value`);
    if (keys.has(key)) fail(`delta ${id}: application state ${key} twice`);
    keys.add(key);
    out.push({ key, value, version: version(a[i + 2], `delta ${id} application state version`) });
  }
  return out;
}

function decodeDelta(x: unknown): MemberDelta {
  if (!isRecord(x)) fail('delta: not a map');
  const id = nodeId(field(x, 'i'), 'delta');
  const generation = version(field(x, 'g'), `delta ${id} generation`);
  const from = version(field(x, 'f'), `delta ${id} from`);
  const heartbeat = version(field(x, 'h'), `delta ${id} heartbeat`);
  let status: Versioned<MemberStatus> | undefined;
  const s = field(x, 's');
  if (s !== undefined) {
    const [value, v] = pair(s, `delta ${id} status`);
    if (!MEMBER_STATUSES.includes(value as MemberStatus)) fail(`delta ${id}: unknown status`);
    status = { value: value as MemberStatus, version: v };
  }
  let toks: Versioned<readonly bigint[]> | undefined;
  const k = field(x, 'k');
  if (k !== undefined) {
    const [value, v] = pair(k, `delta ${id} tokens`);
    toks = { value: tokens(value, `delta ${id}`), version: v };
  }
  let load: Versioned<number> | undefined;
  const l = field(x, 'l');
  if (l !== undefined) {
    const [value, v] = pair(l, `delta ${id} load`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`delta ${id}: load not a non-negative number`);
    load = { value, version: v };
  }
  const a = field(x, 'a');
  const app = a === undefined ? NO_APP_FIELDS : appFields(a, id);
  // A delta carries a field only if it was written above `from` (the heartbeat is always carried, so it may
  // be at or below): a field at or below `from` contradicts the delta's own claim.
  const notAbove = (v: number | undefined): void => {
    if (v !== undefined && v <= from) fail(`delta ${id}: a field at version ${v}, not above from ${from}`);
  };
  notAbove(status?.version);
  notAbove(toks?.version);
  notAbove(load?.version);
  for (const f of app) notAbove(f.version);
  return {
    nodeId: id,
    generation,
    from,
    heartbeat,
    ...(status !== undefined ? { status } : {}),
    ...(toks !== undefined ? { tokens: toks } : {}),
    ...(load !== undefined ? { load } : {}),
    app,
  };
}

/** The deltas of an ACK or ACK2: maps (s) and then bare heartbeats (b). */
function deltas(maps: unknown, beats: unknown): MemberDelta[] {
  if (!Array.isArray(maps)) fail('deltas: not a list');
  if (!Array.isArray(beats) || beats.length % 4 !== 0) fail('beats: not a list of quadruples');
  if (maps.length + beats.length / 4 > MAX_GOSSIP_MEMBERS) fail(`deltas: more than ${MAX_GOSSIP_MEMBERS}`);
  const seen = new Set<string>();
  const once = (delta: MemberDelta): MemberDelta => {
    if (seen.has(delta.nodeId)) fail(`deltas: ${delta.nodeId} twice`);
    seen.add(delta.nodeId);
    return delta;
  };
  const out = maps.map((d) => once(decodeDelta(d)));
  for (let i = 0; i < beats.length; i += 4) {
    const id = nodeId(beats[i], 'beat');
    out.push(once({ nodeId: id, generation: version(beats[i + 1], 'beat generation'), from: version(beats[i + 2], 'beat from'), heartbeat: version(beats[i + 3], 'beat heartbeat'), app: NO_APP_FIELDS }));
  }
  return out;
}

/** Whether a decoded payload belongs to gossip (for a multiplexer that decodes frames itself). */
export function isGossipPayload(payload: unknown): boolean {
  return isRecord(payload) && field(payload, 'p') === GOSSIP_PROTOCOL;
}

/** Validates a decoded frame payload; throws GossipWireError on anything but a well-formed gossip message. */
export function decodeGossipPayload(payload: unknown): GossipMessage {
  if (!isRecord(payload)) fail('payload: not a map');
  if (field(payload, 'p') !== GOSSIP_PROTOCOL) fail('payload: not tagged as gossip');
  if (field(payload, 'v') !== GOSSIP_WIRE_VERSION) fail('payload: unknown wire version');
  const cluster = field(payload, 'c');
  if (typeof cluster !== 'string' || cluster.length > MAX_CLUSTER_NAME_LENGTH) fail('payload: bad cluster name');
  const t = field(payload, 't');
  switch (t) {
    case 'syn':
      return { t, cluster, digests: triples(field(payload, 'd'), 'digests', (nodeId, generation, maxVersion) => ({ nodeId, generation, maxVersion })) };
    case 'ack':
      return {
        t,
        cluster,
        deltas: deltas(field(payload, 's'), field(payload, 'b')),
        requests: triples(field(payload, 'r'), 'requests', (nodeId, generation, above) => ({ nodeId, generation, above })),
      };
    case 'ack2':
      return { t, cluster, deltas: deltas(field(payload, 's'), field(payload, 'b')) };
    default:
      return fail('payload: unknown message type');
  }
}

/**
 * Decodes one whole frame; throws GossipWireError on a short, corrupt,
 * trailing-garbage or malformed frame. The payload is read directly
 * (gossip_frame_reader.ts) when it has the writer's plain shape, and
 * otherwise decoded by msgpackr and validated by decodeGossipPayload.
 */
export function decodeGossipFrame(frame: Uint8Array): GossipMessage {
  if (frame.length < FRAME_HEADER_BYTES) fail('frame: truncated');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const length = view.getUint32(0, true);
  if (length > FRAME_MAX_PAYLOAD_BYTES) fail(`frame: length ${length} exceeds ${FRAME_MAX_PAYLOAD_BYTES}`);
  const end = FRAME_HEADER_BYTES + length;
  if (frame.length < end) fail('frame: truncated');
  if (frame.length !== end) fail(`frame: ${frame.length - end} trailing bytes`);
  if (crc32c(frame, FRAME_HEADER_BYTES, end) !== unmaskCrc(view.getUint32(4, true))) fail('frame: checksum mismatch');
  const direct = readGossipPayload(frame, FRAME_HEADER_BYTES, end);
  if (direct !== null) return direct;
  let payload: unknown;
  try {
    payload = decodeMessage(frame.subarray(FRAME_HEADER_BYTES, end));
  } catch (err) {
    if (err instanceof FrameError) fail(`frame: ${err.message}`);
    throw err;
  }
  return decodeGossipPayload(payload);
}

/** The generic decoding alone (msgpackr, then decodeGossipPayload): the model the direct reader must agree with (tests). */
export function decodeGossipFrameGeneric(frame: Uint8Array): GossipMessage {
  let decoded: { message: unknown; used: number } | null;
  try {
    decoded = decodeFrame(frame);
  } catch (err) {
    if (err instanceof FrameError) fail(`frame: ${err.message}`);
    throw err;
  }
  if (decoded === null) fail('frame: truncated');
  if (decoded.used !== frame.length) fail(`frame: ${frame.length - decoded.used} trailing bytes`);
  return decodeGossipPayload(decoded.message);
}
