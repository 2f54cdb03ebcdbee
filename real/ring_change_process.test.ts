// Ring changes between real node processes (in one process, over TCP): a
// fourth node joins a running three-node cluster by gossip and serves what
// was written before; then a node is decommissioned and another, dead, is
// removed (through the CLI commands), and nothing is lost.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decommissionCommand, removenodeCommand } from './cli/admin_commands.ts';
import { resolveNodeConfig } from './node_config.ts';
import { type RunningNode, startNode } from './node_process.ts';
import { generateSecretHex } from './peer_auth.ts';
import { freePorts, waitFor } from './test_ports.testkit.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-ring-'));
const secretFile = path.join(dir, 'secret');
fs.writeFileSync(secretFile, generateSecretHex());
const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = (n: RunningNode) => `http://127.0.0.1:${n.http.port}`;
const KEYS = 150;

interface RingView {
  phase: string | null;
  operation: { kind: string; waitingFor: string } | null;
  members: { id: string; phase: string }[];
}
const ring = async (n: RunningNode) => (await (await fetch(`${base(n)}/admin/ring`)).json()) as RingView;

describe('ring changes between node processes', () => {
  it('a node joins by gossip, unknown to the running nodes beforehand, and serves the keys written before; a decommissioned node and a removed dead one leave nothing behind', async () => {
    const ports = await freePorts(4);
    const members = ports.map((p, i) => ({ id: `r${i + 1}`, address: `127.0.0.1:${p}`, ...(i === 3 ? { joining: true } : { vnodes: 16 }) }));
    const dirs = members.map((m) => fs.mkdtempSync(path.join(dir, `${m.id}-`)));
    const start = (i: number, extra: Record<string, unknown> = {}) =>
      startNode(
        resolveNodeConfig(
          {
            nodeId: members[i]!.id,
            dataDir: dirs[i],
            secretFile,
            http: { port: 0 },
            peer: { port: ports[i] },
            // The running nodes are not told about r4: it joins knowing only their addresses.
            members: i === 3 ? members : members.slice(0, 3),
            vnodes: 16,
            keyspaces: [{ name: 'default', replicationFactor: 2, readConsistency: 'QUORUM', writeConsistency: 'QUORUM' }],
            requestTimeoutMs: 500,
            gossipIntervalMs: 100,
            ...extra,
          },
          dir,
        ),
        pino({ level: 'silent' }),
      ).then((n) => (running.push(n), n));
    const nodes = [await start(0), await start(1), await start(2)];
    await waitFor('gossip', () => nodes.every((n) => n.node.memberStates().filter((m) => m.state === 'normal').length === 3), 20_000);
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${base(nodes[i % 3]!)}/kv/default/k${i}?consistency=ALL`, { method: 'PUT', body: `v${i}` });
      expect(res.status, `put k${i}`).toBe(204);
    }

    const joiner = await start(3, { join: true });
    nodes.push(joiner);
    await waitFor('join', () => joiner.node.topology.phaseOf('r4') === 'normal' && joiner.node.ringOperation() === null, 60_000);
    const held = joiner.node.dumpReplicaRecords().length;
    // With N=2 of 4 nodes the joiner holds about half the keys; it had none.
    expect(held).toBeGreaterThan(KEYS / 5);
    for (const n of nodes) expect((await ring(n)).members.find((m) => m.id === 'r4')?.phase).toBe('normal');
    // Reads answered by the joiner's coordinator at ALL: every replica, the joiner among them, has each key.
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${base(joiner)}/kv/default/k${i}?consistency=ALL`);
      expect(res.status, `get k${i}`).toBe(200);
      expect(await res.text()).toBe(`v${i}`);
    }

    expect(await decommissionCommand.run(['--node', base(nodes[0]!)])).toBe(0);
    expect(nodes[0]!.node.topology.phaseOf('r1')).toBe('left');
    const again = await fetch(`${base(nodes[0]!)}/admin/decommission`, { method: 'POST' });
    expect([again.status, ((await again.json()) as { error: { code: string } }).error.code]).toEqual([409, 'conflict']);
    await nodes[0]!.stop();
    running.splice(running.indexOf(nodes[0]!), 1);
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${base(nodes[1 + (i % 3)]!)}/kv/default/k${i}?consistency=ALL`);
      expect(res.status, `get k${i} after the decommission`).toBe(200);
      expect(await res.text()).toBe(`v${i}`);
    }

    // r2 dies for good; r3 and r4 (N=2) must end up with every key.
    await nodes[1]!.stop();
    running.splice(running.indexOf(nodes[1]!), 1);
    expect(await removenodeCommand.run(['r2', '--node', base(nodes[2]!), '--no-wait'])).toBe(1); // still believed up
    await waitFor('r2 down', () => nodes[2]!.node.memberStates().find((m) => m.id === 'r2')?.state === 'down', 30_000);
    expect(await removenodeCommand.run(['r2', '--node', base(nodes[2]!)])).toBe(0);
    await waitFor('r4 sees r2 removed', () => joiner.node.topology.phaseOf('r2') === 'removed', 10_000);
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${base(nodes[2 + (i % 2)]!)}/kv/default/k${i}?consistency=ALL`);
      expect(res.status, `get k${i} after the removal`).toBe(200);
      expect(await res.text()).toBe(`v${i}`);
    }
  }, 150_000);
});
