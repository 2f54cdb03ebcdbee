// `GET /admin/replicas`: every replica record a node holds, for checkers that
// judge a real cluster the way the simulator judges a simulated one
// (convergence, durability, validity need what each replica holds, not what a
// quorum read answers).
//
// Body (JSON): {"node": "n1", "records": [{"keyspace": "default",
// "key": BASE64, "value": BASE64}, ...]} where `key` is the user key's bytes
// and `value` the record's versioned value in its storage encoding
// (core/versioning/versioned_value.ts, encodeVersionedValue). Records come in
// the node's key order. `?keyspace=NAME` keeps only that keyspace's records.

import { assert } from '../io/assert.ts';
import type { ReplicaRecord } from '../core/node.ts';
import { decodeVersionedValue, encodeVersionedValue } from '../core/versioning/versioned_value.ts';

export interface ReplicaDump {
  node: string;
  records: ReplicaRecord[];
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

export function encodeReplicaDump(node: string, records: readonly ReplicaRecord[], keyspace: string | null): string {
  const out = records
    .filter((r) => keyspace === null || r.keyspace === keyspace)
    .map((r) => ({ keyspace: r.keyspace, key: b64(r.key), value: b64(encodeVersionedValue(r.value)) }));
  return JSON.stringify({ node, records: out }) + '\n';
}

/** Parses a dump body; throws on anything malformed (a checker must not guess). */
export function decodeReplicaDump(text: string): ReplicaDump {
  const raw = JSON.parse(text) as { node?: unknown; records?: unknown };
  assert(typeof raw.node === 'string', 'replica dump: node must be a string');
  assert(Array.isArray(raw.records), 'replica dump: records must be a list');
  const records = (raw.records as Array<Record<string, unknown>>).map((r, i): ReplicaRecord => {
    assert(typeof r.keyspace === 'string' && typeof r.key === 'string' && typeof r.value === 'string', `replica dump: record ${i} is malformed`);
    return {
      keyspace: r.keyspace,
      key: new Uint8Array(Buffer.from(r.key, 'base64')),
      value: decodeVersionedValue(new Uint8Array(Buffer.from(r.value, 'base64'))),
    };
  });
  return { node: raw.node, records };
}
