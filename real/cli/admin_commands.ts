// `ringkv status|ring|repair|decommission|removenode`: operating a running
// cluster through one of its nodes' HTTP API.

import * as fs from 'node:fs';
import type { RepairProgress } from '../../core/antientropy/anti_entropy_service.ts';
import type { RangeCleanupProgress } from '../../core/ring_change/range_cleanup.ts';
import { type Command, UsageError, parseFlags } from './command.ts';
import { NODE_FLAGS_HELP, NODE_FLAG_NAMES, clientFrom, countFlag, reportingErrors } from './node_client_flags.ts';

interface MemberStatus {
  id: string;
  address: string;
  self: boolean;
  state: string;
  link: string | null;
  phi: number | null;
  tokens: number;
  ownership: Record<string, { primary: number; replica: number }>;
  hintsPending: number;
}

interface NodeStatus {
  node: string;
  cluster: string;
  uptimeSeconds: number;
  members: MemberStatus[];
  keyspaces: { name: string; replicationFactor: number; conflictMode: string }[];
  ring: { tokens: number; spread: Record<string, { primary: number; replica: number }> };
  hints: { total: number };
  storage: { tablesPerLevel: number[]; compactionBacklogBytes: number; diskBytes: number } | null;
  rangeCleanup: RangeCleanupProgress | null;
  events: Record<string, number>;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export const statusCommand: Command = {
  name: 'status',
  summary: "show a node's view of the cluster: members, links, phi, hints, storage",
  help: `usage: ringkv status [--json] [--node URL]

Prints the node's view of every member (up, suspect or down; peer link;
heartbeat phi; hints waiting for it), its storage (SSTables per level,
compaction backlog) and, while one runs, the pass that drops the records of
ranges the node gave away in a ring change.

options:
  --json    print /admin/status as it is
${NODE_FLAGS_HELP}`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['json'], strings: NODE_FLAG_NAMES });
    if (positional.length > 0) throw new UsageError(`unexpected argument ${positional[0]}`);
    const client = clientFrom(flags);
    try {
      return await reportingErrors('status', async () => {
        const s = (await client.status(0)) as unknown as NodeStatus;
        if (flags.has('json')) {
          console.log(JSON.stringify(s, null, 2));
          return 0;
        }
        console.log(`node ${s.node} of cluster ${s.cluster}, up ${s.uptimeSeconds} s`);
        console.log(
          table([
            ['member', 'address', 'state', 'link', 'phi', 'hints'],
            ...s.members.map((m) => [m.id + (m.self ? ' (this)' : ''), m.address, m.state, m.link ?? '-', m.phi === null ? '-' : m.phi.toFixed(2), String(m.hintsPending)]),
          ]),
        );
        if (s.storage !== null) {
          console.log(`storage: tables per level [${s.storage.tablesPerLevel.join(', ')}], compaction backlog ${s.storage.compactionBacklogBytes} B, ${s.storage.diskBytes} B on disk`);
        }
        console.log(`hints pending: ${s.hints.total}`);
        const running = s.rangeCleanup?.running;
        if (running !== undefined && running !== null) {
          console.log(`dropping ranges given away: ${running.recordsScanned} records scanned, ${running.recordsDropped} dropped`);
        }
        return s.members.every((m) => m.state === 'up') ? 0 : 1;
      });
    } finally {
      client.close();
    }
  },
};

export const ringCommand: Command = {
  name: 'ring',
  summary: 'show the token ring: tokens and ownership per node',
  help: `usage: ringkv ring [--node URL]

Prints each member's token count and its share of the ring, as primary
(first replica) and as any replica, for each replication factor in use, and
the spread (largest over smallest share; 1 is perfect balance).

options:
${NODE_FLAGS_HELP}`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { strings: NODE_FLAG_NAMES });
    if (positional.length > 0) throw new UsageError(`unexpected argument ${positional[0]}`);
    const client = clientFrom(flags);
    try {
      return await reportingErrors('ring', async () => {
        const s = (await client.status(0)) as unknown as NodeStatus;
        const factors = Object.keys(s.ring.spread);
        console.log(`${s.ring.tokens} tokens; keyspaces ${s.keyspaces.map((k) => `${k.name} (N=${k.replicationFactor}, ${k.conflictMode})`).join(', ')}`);
        console.log(
          table([
            ['member', 'tokens', ...factors.flatMap((f) => [`${f} primary`, `${f} replica`])],
            ...s.members.map((m) => [m.id, String(m.tokens), ...factors.flatMap((f) => [pct(m.ownership[f]!.primary), pct(m.ownership[f]!.replica)])]),
          ]),
        );
        for (const f of factors) console.log(`spread ${f}: primary ${s.ring.spread[f]!.primary.toFixed(2)}, replica ${s.ring.spread[f]!.replica.toFixed(2)}`);
        return 0;
      });
    } finally {
      client.close();
    }
  },
};

export const repairCommand: Command = {
  name: 'repair',
  summary: 'repair replicas by Merkle anti-entropy (or, with --read-repair, by reading every key)',
  help: `usage: ringkv repair [KEYSPACE] [--start TOKEN --end TOKEN] [--node URL]
       ringkv repair KEYSPACE --read-repair [--start KEY] [--end KEY] [--page N] [--node URL]

Merkle anti-entropy (default): the node compares every token range it
replicates (of KEYSPACE, or of every keyspace; with --start/--end only the
ranges whose end token lies in (start, end]) with each other replica of the
range, hash tree against hash tree, and streams only the keys that differ,
with their versions and tombstones, both ways. Progress is printed as each
(range, replica) pair finishes. Replicas believed down are skipped (counted);
run the repair again once they are back, or on every node to cover the
ranges this one does not hold.

--read-repair walks the keyspace (or [start, end) in key order) and reads
every key with r = N, so the coordinator sends the merged newest version to
any replica that lacks it.

options:
  --start TOKEN, --end TOKEN   limit the ranges (decimal or 0x hex tokens);
                               with --read-repair, keys
  --page N                     --read-repair: keys per scan page (default 500)
${NODE_FLAGS_HELP}

exit codes: 0 every pair compared (every key read), 1 some could not be.`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['read-repair'], strings: ['start', 'end', 'page', ...NODE_FLAG_NAMES] });
    if (positional.length > 1) throw new UsageError(`unexpected argument ${positional[1]}`);
    const [keyspace] = positional;
    const client = clientFrom(flags);
    try {
      if (flags.has('read-repair')) {
        if (keyspace === undefined) throw new UsageError('--read-repair needs a KEYSPACE');
        return await readRepair(client, keyspace, flags);
      }
      return await reportingErrors('repair', () => merkleRepair(client, keyspace, flags));
    } finally {
      client.close();
    }
  },
};


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function merkleRepair(client: ReturnType<typeof clientFrom>, keyspace: string | undefined, flags: Map<string, string | true>): Promise<number> {
  const start = flags.get('start') as string | undefined;
  const end = flags.get('end') as string | undefined;
  if ((start === undefined) !== (end === undefined)) throw new UsageError('--start and --end go together');
  const started = (await client.startRepair({ keyspace, start, end })) as { node: string; pairs: number };
  console.log(`repair on ${started.node}: ${started.pairs} (range, replica) pairs${keyspace !== undefined ? ` of ${keyspace}` : ''}`);
  let shown = -1;
  for (;;) {
    await sleep(250);
    const s = (await client.repairStatus()) as { antiEntropy: { repair: RepairProgress | null; lastRepair: RepairProgress | null } };
    // The repair started above runs until it is the last one finished.
    const p = s.antiEntropy.repair ?? s.antiEntropy.lastRepair;
    if (p === null) continue;
    if (p.done !== shown) {
      shown = p.done;
      console.log(`  ${p.done}/${p.pairs} pairs: ${p.inSync} in sync, ${p.repaired} repaired, ${p.skipped} skipped (replica down), ${p.failed} failed; ${p.keysRepaired} keys streamed, ${p.bytes} B`);
    }
    if (p.finished) return p.skipped === 0 && p.failed === 0 ? 0 : 1;
  }
}

async function readRepair(client: ReturnType<typeof clientFrom>, keyspace: string, flags: Map<string, string | true>): Promise<number> {
  return await reportingErrors('repair', async () => {
    const before = (await client.status(0)) as unknown as NodeStatus;
    const ks = before.keyspaces.find((k) => k.name === keyspace);
    if (ks === undefined) throw new UsageError(`keyspace ${keyspace} is not configured on ${before.node}`);
    let keys = 0;
    let failed = 0;
    for await (const item of client.scan(keyspace, { start: flags.get('start') as string | undefined, end: flags.get('end') as string | undefined, pageSize: countFlag(flags, 'page') ?? 500 })) {
      keys++;
      try {
        await client.get(keyspace, item.key, { r: ks.replicationFactor });
      } catch {
        failed++;
      }
    }
    const after = (await client.status(0)) as unknown as NodeStatus;
    const sent = (after.events['read repair sent'] ?? 0) - (before.events['read repair sent'] ?? 0);
    console.log(`${keyspace}: ${keys} keys read from all ${ks.replicationFactor} replicas${failed > 0 ? `, ${failed} could not be` : ''}; ${sent} repairs sent by ${after.node}`);
    return failed === 0 ? 0 : 1;
  });
}

interface RingView {
  node: string;
  phase: string | null;
  operation: { kind: string; waitingFor: string } | null;
  members: { id: string; phase: string; tokens: number }[];
}

/** One admin request to the first --node URL; the body parsed as JSON, or an error message. */
async function adminRequest(flags: Map<string, string | true>, method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const node = ((flags.get('node') as string | undefined) ?? process.env.RINGKV_NODE ?? 'http://127.0.0.1:8001').split(',')[0]!;
  const base = /^https?:\/\//.test(node) ? node : `http://${node}`;
  const tokenFile = flags.get('token-file') as string | undefined;
  let token = process.env.RINGKV_API_TOKEN;
  if (tokenFile !== undefined) {
    try {
      token = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--token-file: ${(err as Error).message}`);
    }
  }
  const res = await fetch(new URL(path, base), { method, headers: token !== undefined ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { error: { code: 'internal', message: text.slice(0, 200) } };
  }
  return { status: res.status, body };
}

/** Starts a ring operation with `path`, then (unless --no-wait) follows GET /admin/ring until it is over. */
async function ringOperation(name: string, flags: Map<string, string | true>, path: string, finished: (v: RingView) => boolean): Promise<number> {
  const started = await adminRequest(flags, 'POST', path);
  if (started.status !== 202) {
    const e = started.body.error as { code?: string; message?: string } | undefined;
    console.error(`ringkv ${name}: ${e?.code ?? started.status}: ${e?.message ?? 'refused'}`);
    return 1;
  }
  console.log(`${name} started on ${String(started.body.node)}`);
  if (flags.has('no-wait')) return 0;
  let shown = '';
  for (;;) {
    await sleep(500);
    const { status, body } = await adminRequest(flags, 'GET', '/admin/ring');
    if (status !== 200) continue; // the node may be busy; keep asking
    const v = body as unknown as RingView;
    const now = v.operation === null ? 'done' : `waiting for ${v.operation.waitingFor}`;
    if (now !== shown) console.log(`  ${now}`);
    shown = now;
    if (v.operation === null) {
      console.log(v.members.map((m) => `${m.id} ${m.phase}`).join(', '));
      return finished(v) ? 0 : 1;
    }
  }
}

const RING_OP_FLAGS = `  --no-wait           return once the node has started it (follow it with GET /admin/ring)
${NODE_FLAGS_HELP}`;

export const decommissionCommand: Command = {
  name: 'decommission',
  summary: 'take the node out of the ring: it streams its ranges to their new owners, then leaves',
  help: `usage: ringkv decommission [--no-wait] [--node URL]

The node (--node) announces by gossip that it is leaving: writes then reach
the new owners of its ranges too, and once every live member uses the new
placement (and a request timeout has passed) the new owners pull the ranges
from it. When every one of them reports it has caught up, the node announces
'left'. Stop the process then. Exit 0 when it has left.

options:
${RING_OP_FLAGS}`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['no-wait'], strings: NODE_FLAG_NAMES });
    if (positional.length > 0) throw new UsageError(`unexpected argument ${positional[0]}`);
    return await ringOperation('decommission', flags, '/admin/decommission', (v) => v.phase === 'left');
  },
};

export const removenodeCommand: Command = {
  name: 'removenode',
  summary: 'remove a dead node: the survivors restore N copies of its ranges, then it is gossiped removed',
  help: `usage: ringkv removenode ID [--no-wait] [--node URL]

For a member that is gone for good (its disk lost) and cannot decommission
itself. The node you talk to (--node) names ID as being removed; every
member then treats ID as leaving, and the survivors that become replicas of
its ranges pull them from the other replicas. Once all have, ID is gossiped
'removed'. Refused while gossip believes ID up (decommission it instead).
Exit 0 when ID is removed.

options:
${RING_OP_FLAGS}`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { booleans: ['no-wait'], strings: NODE_FLAG_NAMES });
    if (positional.length !== 1) throw new UsageError(positional.length === 0 ? 'removenode needs the ID of the dead member' : `unexpected argument ${positional[1]}`);
    const dead = positional[0]!;
    return await ringOperation('removenode', flags, `/admin/removenode?node=${encodeURIComponent(dead)}`, (v) => {
      const m = v.members.find((x) => x.id === dead);
      return m === undefined || m.phase === 'removed';
    });
  },
};
