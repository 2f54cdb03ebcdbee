// Bytes for dotted version vector sets and causal contexts.
//
//   dvv     := msgpack [ entry* ]                 entries by node ascending (compareNodeIds)
//   entry   := [ node: str, counter: uint, [ sibling* ] ]
//   sibling := [ counter: uint, value: bin ]       counters strictly descending, in 1..entry counter
//
//   context := base64url( version:u8 (= 1)  payload  crc32c(payload):u32le )
//   payload := msgpack [ [ node: str, counter: uint ]* ]   nodes ascending, counters in 1..2^48
//
// A context comes from a client and goes back to one, so it is validated
// fully and checksummed: a truncated or mangled context is refused, not read
// as a smaller context (which would quietly turn a replacing write into an
// extra sibling). The checksum does not stop deliberate forgery; a client
// that fabricates a context only decides which versions its own write replaces.

import { crc32c } from '../../io/crc32c.ts';
import { decodeMessage, encodeMessage } from '../../io/frame_codec.ts';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';
import type { CausalContext, Dot, DvvEntry, DvvSet, DvvSibling } from './dotted_version_vector.ts';
import { InvalidContextError, VersionFormatError } from './errors.ts';
import { compareNodeIds, nodeIdProblem } from './hlc.ts';

const CONTEXT_VERSION = 1;
/** Longest context string accepted from a client. */
export const MAX_CONTEXT_CHARS = 64 * 1024;
/** Most nodes a context may name. */
export const MAX_CONTEXT_ENTRIES = 1024;
/**
 * Highest counter a client context may carry: far above any real count of
 * writes to one key, and far enough below 2^53 that a forged context cannot
 * push a key's counters to where minting the next dot would fail.
 */
export const MAX_CONTEXT_COUNTER = 2 ** 48;

export function encodeContext(context: CausalContext): string {
  const payload = encodeMessage(context.map((d) => [d.node, d.counter]));
  const bytes = new Uint8Array(1 + payload.length + 4);
  bytes[0] = CONTEXT_VERSION;
  bytes.set(payload, 1);
  new DataView(bytes.buffer).setUint32(1 + payload.length, crc32c(payload), true);
  return encodeBase64Url(bytes);
}

/** Parses a client's context; anything malformed is an InvalidContextError. */
export function decodeContext(text: unknown): CausalContext {
  if (typeof text !== 'string') throw new InvalidContextError('causal context must be a string');
  if (text.length === 0) throw new InvalidContextError('causal context is empty (omit it to write without one)');
  if (text.length > MAX_CONTEXT_CHARS) throw new InvalidContextError(`causal context is longer than ${MAX_CONTEXT_CHARS} characters`);
  const bytes = decodeBase64Url(text);
  if (bytes === null) throw new InvalidContextError('causal context is not base64url');
  if (bytes.length < 1 + 1 + 4) throw new InvalidContextError('causal context is truncated');
  if (bytes[0] !== CONTEXT_VERSION) throw new InvalidContextError(`causal context version ${bytes[0]} is not supported`);
  const payload = bytes.subarray(1, bytes.length - 4);
  const crc = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bytes.length - 4, true);
  if (crc32c(payload) !== crc) throw new InvalidContextError('causal context checksum mismatch (truncated or altered)');
  let raw: unknown;
  try {
    raw = decodeMessage(payload);
  } catch {
    throw new InvalidContextError('causal context payload does not parse');
  }
  const problem = { message: '' };
  const context = parseContext(raw, problem);
  if (context === null) throw new InvalidContextError(`causal context invalid: ${problem.message}`);
  return context;
}

function parseContext(raw: unknown, problem: { message: string }): CausalContext | null {
  if (!Array.isArray(raw)) return fail(problem, 'not a list');
  if (raw.length > MAX_CONTEXT_ENTRIES) return fail(problem, `more than ${MAX_CONTEXT_ENTRIES} entries`);
  const out: Dot[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || item.length !== 2) return fail(problem, 'entry is not a [node, counter] pair');
    const [node, counter] = item as [unknown, unknown];
    const nodeProblem = nodeIdProblem(node);
    if (nodeProblem !== null) return fail(problem, nodeProblem);
    if (!isCounter(counter)) return fail(problem, `counter ${String(counter)} is not a positive integer`);
    if (counter > MAX_CONTEXT_COUNTER) return fail(problem, `counter ${counter} exceeds ${MAX_CONTEXT_COUNTER}`);
    const previous = out[out.length - 1];
    if (previous && compareNodeIds(previous.node, node as string) >= 0) return fail(problem, 'entries not in ascending node order');
    out.push({ node: node as string, counter });
  }
  return out;
}

function fail(problem: { message: string }, message: string): null {
  problem.message = message;
  return null;
}

function isCounter(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 1;
}

export function encodeDvv<V>(state: DvvSet<V>, encodeValue: (value: V) => Uint8Array): Uint8Array {
  return encodeMessage(state.entries.map((e) => [e.node, e.counter, e.siblings.map((s) => [s.counter, encodeValue(s.value)])]));
}

/** Parses a stored or received state; anything malformed (including a value decodeValue refuses) is a VersionFormatError. */
export function decodeDvv<V>(bytes: Uint8Array, decodeValue: (bytes: Uint8Array) => V): DvvSet<V> {
  let raw: unknown;
  try {
    raw = decodeMessage(bytes);
  } catch {
    throw new VersionFormatError('dvv state does not parse');
  }
  if (!Array.isArray(raw)) throw new VersionFormatError('dvv state is not a list');
  const entries: DvvEntry<V>[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || item.length !== 3) throw new VersionFormatError('dvv entry is not [node, counter, siblings]');
    const [node, counter, rawSiblings] = item as [unknown, unknown, unknown];
    const nodeProblem = nodeIdProblem(node);
    if (nodeProblem !== null) throw new VersionFormatError(`dvv entry: ${nodeProblem}`);
    if (!isCounter(counter)) throw new VersionFormatError(`dvv counter ${String(counter)} invalid`);
    const previous = entries[entries.length - 1];
    if (previous && compareNodeIds(previous.node, node as string) >= 0) throw new VersionFormatError('dvv entries not in ascending node order');
    if (!Array.isArray(rawSiblings)) throw new VersionFormatError('dvv siblings are not a list');
    const siblings: DvvSibling<V>[] = [];
    let above = counter + 1;
    for (const s of rawSiblings) {
      if (!Array.isArray(s) || s.length !== 2) throw new VersionFormatError('dvv sibling is not [counter, value]');
      const [dot, valueBytes] = s as [unknown, unknown];
      if (!isCounter(dot) || dot >= above) throw new VersionFormatError(`dvv sibling dot ${String(dot)} out of order or above ${counter}`);
      if (!(valueBytes instanceof Uint8Array)) throw new VersionFormatError('dvv sibling value is not bytes');
      siblings.push({ counter: dot, value: decodeSiblingValue(valueBytes, decodeValue) });
      above = dot;
    }
    entries.push({ node: node as string, counter, siblings });
  }
  return { entries };
}

function decodeSiblingValue<V>(bytes: Uint8Array, decodeValue: (bytes: Uint8Array) => V): V {
  // msgpackr may hand back a Buffer; callers get a plain Uint8Array view.
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return decodeValue(plain);
  } catch (err) {
    if (err instanceof VersionFormatError) throw err;
    throw new VersionFormatError(`dvv sibling value does not decode: ${(err as Error).message}`);
  }
}
