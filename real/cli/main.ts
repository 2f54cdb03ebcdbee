// `ringkv` command-line entry: dispatches to one module per subcommand.

import '../native_crc32c.ts';
import { type Command, UsageError } from './command.ts';

type CommandEntry = { name: string; summary: string; load: () => Promise<{ command: Command }> };

// One line per subcommand; the module is imported only when it runs.
const COMMANDS: CommandEntry[] = [
  { name: 'bench', summary: 'run a benchmark beside its comparator (engine, checker, sim)', load: () => import('./bench_command.ts') },
  { name: 'check', summary: 'check a recorded history for linearizability (jepsen etcd logs or ringkv histories)', load: () => import('./check_command.ts') },
  { name: 'scenarios', summary: 'list the simulator scenarios, one line each', load: () => import('./scenarios_command.ts') },
  { name: 'sim', summary: 'run a scenario in the deterministic simulator for a seed or a range of seeds', load: () => import('./sim_command.ts') },
  { name: 'start', summary: 'run one node (storage, peer transport, HTTP API) until SIGINT/SIGTERM', load: () => import('./start_command.ts') },
  { name: 'local-cluster', summary: 'run a local cluster (default 3 nodes, one process each) on loopback until Ctrl-C', load: () => import('./local_cluster_command.ts') },
  { name: 'get', summary: 'read a key from a running node (value to stdout)', load: () => import('./kv_commands.ts').then((m) => ({ command: m.getCommand })) },
  { name: 'put', summary: 'write a key on a running node (value as argument or from stdin)', load: () => import('./kv_commands.ts').then((m) => ({ command: m.putCommand })) },
  { name: 'del', summary: 'delete a key on a running node', load: () => import('./kv_commands.ts').then((m) => ({ command: m.delCommand })) },
  { name: 'scan', summary: 'list the keys of a keyspace range on a running node', load: () => import('./kv_commands.ts').then((m) => ({ command: m.scanCommand })) },
  { name: 'status', summary: "show a node's view of the cluster: members, links, phi, hints, storage", load: () => import('./admin_commands.ts').then((m) => ({ command: m.statusCommand })) },
  { name: 'ring', summary: 'show the token ring: tokens and ownership per node', load: () => import('./admin_commands.ts').then((m) => ({ command: m.ringCommand })) },
  { name: 'repair', summary: 'repair the node ranges by Merkle anti-entropy with progress (--read-repair: read every key)', load: () => import('./admin_commands.ts').then((m) => ({ command: m.repairCommand })) },
  { name: 'decommission', summary: 'take the node out of the ring: it streams its ranges to their new owners, then leaves', load: () => import('./admin_commands.ts').then((m) => ({ command: m.decommissionCommand })) },
  { name: 'removenode', summary: 'remove a dead node: the survivors restore N copies of its ranges', load: () => import('./admin_commands.ts').then((m) => ({ command: m.removenodeCommand })) },
];

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'ringkv: a Dynamo-style key-value store whose every failure replays from a seed',
    '',
    'usage: ringkv <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `ringkv <command> --help` for the options of one command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(topHelp());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    console.error(`ringkv: unknown command '${name}'\n\n${topHelp()}`);
    return 2;
  }
  const { command } = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`ringkv ${name}: ${err.message}\n\n${command.help}`);
      return 2;
    }
    throw err;
  }
}
