// From client requests to stored versions and back: the write a put or a
// delete becomes, and the response a merged version reads as.

import { assert } from '../../io/assert.ts';
import { type Hlc, compareHlc } from '../versioning/hlc.ts';
import { encodeContext } from '../versioning/dvv_codec.ts';
import { type VersionedValue, type Write, readVersionedValue, tombstoneWrite, valueWrite } from '../versioning/versioned_value.ts';
import type { WriteIntent } from './coordinator_deps.ts';
import type { KeyspaceConfig } from './keyspace.ts';
import type { GetResponse } from './requests.ts';

/** The write a put or delete becomes, stamped `ts`; a TTL expires relative to `nowMs`. */
export function writeFor(intent: WriteIntent, ts: Hlc, nowMs: number): Write {
  if (intent.value === null) return tombstoneWrite(ts);
  assert(Number.isSafeInteger(intent.ttlMs) && intent.ttlMs >= 0, `ttl ${intent.ttlMs}`);
  const expiresAtMs = intent.ttlMs > 0 ? Math.floor(nowMs) + intent.ttlMs : 0;
  return valueWrite(ts, intent.value.slice(), expiresAtMs);
}

/** What a client reads of `merged` at `nowMs`. */
export function readResponse(ks: KeyspaceConfig, merged: VersionedValue | null, nowMs: number): GetResponse {
  if (merged === null) return { ok: true, found: false, values: [], context: null };
  const read = readVersionedValue(merged, nowMs);
  const context = ks.conflictMode === 'siblings' && read.context !== null ? encodeContext(read.context) : null;
  return { ok: true, found: read.values.length > 0, values: read.values.map((v) => v.slice()), context };
}

/** The newest HLC among the writes of a version (null for none). */
export function newestHlc(v: VersionedValue | null): Hlc | null {
  if (v === null) return null;
  if (v.mode === 'lww') return v.write.hlc;
  let best: Hlc | null = null;
  for (const e of v.dvv.entries) {
    for (const s of e.siblings) {
      const h = s.value.hlc;
      if (best === null || compareHlc(h, best) > 0) best = h;
    }
  }
  return best;
}
