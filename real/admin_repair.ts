// The HTTP admin endpoint of Merkle anti-entropy repair (core/antientropy/):
//
//   POST /admin/repair?keyspace=NAME&start=TOKEN&end=TOKEN
//        starts a repair on this node: every range it replicates (of the
//        keyspace; of those whose end token lies in (start, end]) is compared
//        with each other replica and what differs is streamed both ways.
//        202 {"started": true, "pairs": N}; 409 when one is already running;
//        400 for a malformed token or an unknown keyspace.
//   GET  /admin/repair
//        {"node", "antiEntropy": status} where status.repair is the running
//        repair's progress (null when none) and status.lastRepair the last
//        finished one's.
//
// Tokens are decimal or 0x-prefixed hex, in [0, 2^64). A repair outlives
// the request that started it; `ringkv repair` polls GET for progress.

import type { RepairScope } from '../core/antientropy/anti_entropy_service.ts';
import type { StoreNode } from '../core/node.ts';
import type { TokenRange } from '../core/ring/token_range.ts';

type Respond = (status: number, headers: Record<string, string>, body?: string | Uint8Array) => void;
type Fail = (status: number, code: string, message: string) => void;

const JSON_TYPE = { 'content-type': 'application/json' };

function token(text: string | null, name: string): bigint | null | string {
  if (text === null) return null;
  if (!/^(0x[0-9a-fA-F]{1,16}|\d{1,20})$/.test(text)) return `${name} must be a token: decimal or 0x hex`;
  const t = BigInt(text);
  return t < 1n << 64n ? t : `${name} is outside the ring [0, 2^64)`;
}

export function handleAdminRepair(node: StoreNode, method: string | undefined, search: string, respond: Respond, fail: Fail): void {
  if (method === 'GET') return respond(200, JSON_TYPE, JSON.stringify({ node: node.nodeId, antiEntropy: node.antiEntropyStatus() }) + '\n');
  if (method !== 'POST') return fail(405, 'method_not_allowed', `${method} is not allowed on /admin/repair; GET shows progress, POST starts a repair`);
  const q = new URLSearchParams(search);
  const start = token(q.get('start'), 'start');
  const end = token(q.get('end'), 'end');
  if (typeof start === 'string') return fail(400, 'invalid', start);
  if (typeof end === 'string') return fail(400, 'invalid', end);
  if ((start === null) !== (end === null)) return fail(400, 'invalid', 'start and end go together');
  const keyspace = q.get('keyspace');
  const range: TokenRange | undefined = start !== null && end !== null ? { start, end } : undefined;
  const scope: RepairScope = keyspace === null && range === undefined ? 'all' : { ...(keyspace !== null ? { keyspace } : {}), ...(range !== undefined ? { range } : {}) };
  let refused: Error | null = null;
  // A refusal calls back at once; a started repair calls back when it ends (its progress is in GET).
  node.repair(scope, () => {}, (err) => {
    refused = err;
  });
  const why = refused as Error | null;
  if (why !== null) {
    const busy = why.message.includes('already running');
    return fail(busy ? 409 : 400, busy ? 'conflict' : 'invalid', why.message);
  }
  respond(202, JSON_TYPE, JSON.stringify({ started: true, node: node.nodeId, pairs: node.antiEntropyStatus().repair?.pairs ?? 0 }) + '\n');
}
