// `ringkv local-cluster` (what `npm start` runs): a cluster of nodes on
// loopback, one `ringkv start` child process each (real/local_cluster.ts),
// until Ctrl-C, which stops every node cleanly.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLoopbackHost } from '../node_config.ts';
import { LocalCluster, type LocalNode } from '../local_cluster.ts';
import { type Command, UsageError, integerFlag, parseFlags } from './command.ts';

const HELP = `usage: ringkv local-cluster [options]

Starts a ringkv cluster on this machine, one process per node, prints each
node's HTTP endpoint and a curl example, and runs until Ctrl-C (SIGINT) or
SIGTERM, which stop every node cleanly (a second Ctrl-C kills them).
A second run with the same --data finds the cluster and its data again.

Under --data: cluster.json and cluster.secret (created on the first run),
n1.json... (each node's generated config), n1/... (each node's data),
logs/n1.log... (each node's JSON log). The first run creates the keyspaces
'default' (N=3, lww) and 'carts' (N=3, siblings).

options:
  --data DIR             cluster directory (default ./data)
  --nodes N              number of nodes (default 3; fixed once the directory exists)
  --http-port PORT|LIST  first HTTP port, the others follow (default 8001), or one
                         port per node: 8001,8002,8003
  --peer-port PORT|LIST  same for the peer ports (default 9001)
  --host HOST            loopback address to bind (default 127.0.0.1)
  --log-level LEVEL      the nodes' log level (default info)
  --start-timeout MS     how long nodes may take to serve (default 30000)

exit codes: 0 every node stopped cleanly, 1 a node failed, 2 bad usage.`;

function ports(flag: string, raw: string | undefined, fallback: number, count: number): number[] {
  const list = raw === undefined ? [fallback] : raw.split(',').map((p) => Number(p));
  if (!list.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) throw new UsageError(`--${flag} needs a port or a comma-separated list of ports`);
  if (list.length === 1) return Array.from({ length: count }, (_, i) => list[0]! + i);
  if (list.length !== count) throw new UsageError(`--${flag} lists ${list.length} ports for ${count} nodes`);
  return list;
}

/** Waits (bounded) until every node's links to its peers are authenticated. */
async function waitForLinks(nodes: LocalNode[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let all = true;
    for (const n of nodes) {
      try {
        const res = await fetch(`http://${n.http}/admin/status`);
        const status = (await res.json()) as { members: { self: boolean; link: string | null }[] };
        if (!status.members.every((m) => m.self || m.link === 'ready')) all = false;
      } catch {
        all = false;
      }
    }
    if (all) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export const command: Command = {
  name: 'local-cluster',
  summary: 'run a local cluster (default 3 nodes, one process each) on loopback until Ctrl-C',
  help: HELP,
  async run(args) {
    const { flags, positional } = parseFlags(args, { strings: ['data', 'nodes', 'http-port', 'peer-port', 'host', 'log-level', 'start-timeout'] });
    if (positional.length > 0) throw new UsageError(`unexpected argument ${positional[0]}`);
    const get = (n: string) => flags.get(n) as string | undefined;
    const nodes = integerFlag(flags, 'nodes', 3, { min: 1, max: 32 });
    const host = get('host') ?? '127.0.0.1';
    if (!isLoopbackHost(host)) throw new UsageError('--host must be a loopback address (the local cluster has no API token)');
    const startTimeoutMs = integerFlag(flags, 'start-timeout', 30_000, { min: 1, unit: 'ms' });
    const dataDir = path.resolve(get('data') ?? 'data');
    const binPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/ringkv.mjs');

    let cluster: LocalCluster;
    try {
      cluster = await LocalCluster.start({
        dataDir,
        nodes,
        host,
        httpPorts: ports('http-port', get('http-port'), 8001, nodes),
        peerPorts: ports('peer-port', get('peer-port'), 9001, nodes),
        logLevel: get('log-level') ?? 'info',
        binPath,
        startTimeoutMs,
        report: (line) => console.error(line),
      });
    } catch (err) {
      console.error(`ringkv local-cluster: ${(err as Error).message}`);
      return 1;
    }

    let signals = 0;
    let stopping: Promise<Map<string, number | null>> | null = null;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        console.log(`\n${signal}: stopping ${nodes} node(s)...`);
        stopping = cluster.stop('SIGTERM', 30_000);
      } else {
        console.log('killing the nodes');
        cluster.kill();
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const linked = await waitForLinks(cluster.nodes, 10_000);
    const first = cluster.nodes[0]!;
    const second = cluster.nodes[1] ?? first;
    console.log(
      [
        `ringkv local cluster: ${nodes} node(s), data in ${dataDir}`,
        ...cluster.nodes.map((n) => `  ${n.id}  http://${n.http}  (peer ${n.peer}, pid ${n.pid}, log ${path.relative(process.cwd(), n.logFile)})`),
        ...(linked ? [] : ['  (some peer links are not up yet; see the logs)']),
        '',
        'try:',
        `  curl -X PUT --data-binary 'hello' http://${first.http}/kv/default/greeting`,
        `  curl http://${second.http}/kv/default/greeting`,
        `  curl http://${first.http}/admin/status`,
        '',
        `Ctrl-C stops all ${nodes} node(s).`,
      ].join('\n'),
    );

    const codes = await cluster.whenAllExited();
    await stopping;
    const failed = [...codes].filter(([, code]) => code !== 0);
    for (const [id, code] of codes) console.log(`  ${id} exited with code ${code}`);
    if (signals === 0) console.log('every node exited by itself');
    return failed.length === 0 && signals > 0 ? 0 : 1;
  },
};
