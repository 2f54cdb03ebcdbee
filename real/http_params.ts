// Reading what an HTTP request asks for: keys from the path, and the query
// parameters of the key-value API. Keys are bytes, so they are taken from
// the raw URL by percent-decoding straight to bytes (any byte is allowed,
// UTF-8 or not), and '+' is a literal plus, not a space. Every problem is an
// HttpInputError naming the parameter and what is accepted.

import type { Consistency, ConsistencyLevel } from '../core/node.ts';
import { CONSISTENCY_LEVELS } from '../core/replication/consistency.ts';
import { MAX_SCAN_LIMIT } from '../core/replication/messages.ts';

export class HttpInputError extends Error {
  override name = 'HttpInputError';
  constructor(
    message: string,
    readonly status = 400,
    readonly code = 'invalid',
  ) {
    super(message);
  }
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

const ASCII_COPY_MAX = 256;

/** Percent-decodes `text` to bytes; null when an escape is malformed. */
export function percentDecodeBytes(text: string): Uint8Array | null {
  // Most keys have no escape at all: their bytes are their UTF-8, and most
  // are ASCII and short, copied here by hand (TextEncoder.encode costs a
  // native call and an allocation of its own, several times this loop).
  if (!text.includes('%')) {
    if (text.length > ASCII_COPY_MAX) return utf8Encoder.encode(text);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) return utf8Encoder.encode(text);
      out[i] = c;
    }
    return out;
  }
  const out: number[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') for (const b of utf8Encoder.encode(literal)) out.push(b);
    literal = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '%') {
      literal += c;
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    flush();
    out.push(parseInt(hex, 16));
    i += 2;
  }
  flush();
  return new Uint8Array(out);
}

/** The query string's parameters (raw, still percent-encoded); a repeated parameter is an error. */
export function rawQuery(search: string, allowed: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  if (search === '') return params;
  for (const part of search.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    if (!allowed.includes(name)) {
      throw new HttpInputError(`unknown query parameter ${JSON.stringify(name.slice(0, 40))}; accepted here: ${allowed.join(', ') || 'none'}`);
    }
    if (params.has(name)) throw new HttpInputError(`query parameter ${name} given twice`);
    params.set(name, value);
  }
  return params;
}

/** A query parameter decoded as text. */
export function textParam(params: Map<string, string>, name: string): string | undefined {
  const raw = params.get(name);
  if (raw === undefined) return undefined;
  // Without an escape the text is the parameter as given (decode(encode(s)) is s).
  if (!raw.includes('%')) return raw;
  const bytes = percentDecodeBytes(raw);
  const text = bytes === null ? null : utf8Decoder.decode(bytes);
  if (text === null) throw new HttpInputError(`query parameter ${name} has a malformed percent-escape`);
  return text;
}

/** A query parameter decoded as bytes (scan bounds). */
export function bytesParam(params: Map<string, string>, name: string): Uint8Array | undefined {
  const raw = params.get(name);
  if (raw === undefined) return undefined;
  const bytes = percentDecodeBytes(raw);
  if (bytes === null) throw new HttpInputError(`query parameter ${name} has a malformed percent-escape`);
  return bytes;
}

/** `consistency=LEVEL` and/or `r=N` / `w=N`; case-insensitive levels. */
export function consistencyParams(params: Map<string, string>, counts: readonly ('r' | 'w')[]): Consistency | undefined {
  const c: Consistency = {};
  const level = textParam(params, 'consistency');
  if (level !== undefined) {
    const upper = level.toUpperCase();
    if (!(CONSISTENCY_LEVELS as readonly string[]).includes(upper)) {
      throw new HttpInputError(`consistency ${JSON.stringify(level.slice(0, 40))} unknown; use one of ${CONSISTENCY_LEVELS.join(', ')}`);
    }
    c.level = upper as ConsistencyLevel;
  }
  for (const which of counts) {
    const n = textParam(params, which);
    if (n === undefined) continue;
    if (!/^[1-9]\d{0,2}$/.test(n)) throw new HttpInputError(`${which} must be a positive integer (got ${JSON.stringify(n.slice(0, 40))})`);
    c[which] = Number(n);
  }
  return Object.keys(c).length === 0 ? undefined : c;
}

/** The label a request's consistency is counted under in metrics. */
export function consistencyLabel(c: Consistency | undefined): string {
  if (c?.r !== undefined || c?.w !== undefined) return 'explicit';
  return c?.level ?? 'keyspace';
}

/** Longest TTL accepted: ten years. */
export const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

/** `ttl=SECONDS` (up to millisecond precision, > 0) as milliseconds. */
export function ttlParam(params: Map<string, string>): number | undefined {
  const t = textParam(params, 'ttl');
  if (t === undefined) return undefined;
  if (!/^\d{1,9}(\.\d{1,3})?$/.test(t)) throw new HttpInputError(`ttl must be a number of seconds such as 30 or 1.5 (got ${JSON.stringify(t.slice(0, 40))})`);
  const seconds = Number(t);
  if (seconds <= 0 || seconds > MAX_TTL_SECONDS) throw new HttpInputError(`ttl must be more than 0 and at most ${MAX_TTL_SECONDS} seconds (got ${t})`);
  return Math.round(seconds * 1000);
}

export const DEFAULT_SCAN_LIMIT = 100;

export function limitParam(params: Map<string, string>): number {
  const l = textParam(params, 'limit');
  if (l === undefined) return DEFAULT_SCAN_LIMIT;
  if (!/^\d{1,6}$/.test(l) || Number(l) < 1 || Number(l) > MAX_SCAN_LIMIT) throw new HttpInputError(`limit must be an integer in 1..${MAX_SCAN_LIMIT} (got ${JSON.stringify(l.slice(0, 40))})`);
  return Number(l);
}
