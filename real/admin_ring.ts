// The HTTP admin endpoints of ring changes (core/ring_change/ring_phase_driver.ts):
//
//   POST /admin/decommission
//        this node announces 'leaving', waits until every new owner of its
//        ranges has them, then announces 'left' (shut it down after).
//        202 {"started": true, "node"}; 409 when it is not 'normal' or an
//        operation is already under way.
//   POST /admin/removenode?node=ID
//        this node removes the dead member ID on its behalf: the survivors
//        restore N copies of its ranges, then ID is gossiped 'removed'.
//        202; 400 for a missing id; 409 when ID is believed up, is not a
//        member, or an operation is already under way.
//   GET  /admin/ring
//        {"node", "phase", "operation": {"kind", "waitingFor"} | null,
//         "members": [{"id", "phase", "tokens"}]}: `ringkv decommission`
//        and `ringkv removenode` poll it until the operation is over.
//
// An operation outlives the request that started it.

import type { StoreNode } from '../core/node.ts';

type Respond = (status: number, headers: Record<string, string>, body?: string | Uint8Array) => void;
type Fail = (status: number, code: string, message: string) => void;

const JSON_TYPE = { 'content-type': 'application/json' };

export const ADMIN_RING_PATHS = ['/admin/decommission', '/admin/removenode', '/admin/ring'];

export function ringView(node: StoreNode): unknown {
  const t = node.topology;
  return {
    node: node.nodeId,
    phase: t.phaseOf(node.nodeId) ?? null,
    operation: node.ringOperation(),
    members: t.members().map((m) => ({ id: m.id, phase: m.phase, tokens: m.tokens.length })),
  };
}

export function handleAdminRing(node: StoreNode, pathname: string, method: string | undefined, search: string, respond: Respond, fail: Fail): void {
  if (pathname === '/admin/ring') {
    if (method !== 'GET') return fail(405, 'method_not_allowed', `${method} is not allowed on /admin/ring`);
    return respond(200, JSON_TYPE, JSON.stringify(ringView(node)) + '\n');
  }
  if (method !== 'POST') return fail(405, 'method_not_allowed', `${method} is not allowed on ${pathname}; POST starts it, GET /admin/ring shows progress`);
  let dead: string | null = null;
  if (pathname === '/admin/removenode') {
    dead = new URLSearchParams(search).get('node');
    if (dead === null || dead === '') return fail(400, 'invalid', 'removenode needs ?node=ID');
  }
  // A refusal calls back at once; a started operation calls back when it ends (its progress is in GET /admin/ring).
  let refused: Error | null = null;
  const cb = (err: Error | null): void => {
    refused = err;
  };
  if (dead === null) node.decommission(cb);
  else node.removeNode(dead, cb);
  const why = refused as Error | null;
  if (why !== null) return fail(409, 'conflict', why.message);
  respond(202, JSON_TYPE, JSON.stringify({ started: true, node: node.nodeId, ...(dead !== null ? { removing: dead } : {}) }) + '\n');
}
