// Chaos network on Linux network namespaces (needs root and iproute2): each
// node runs in its own namespace `rkc<pid>n<i>` with one veth whose other end
// sits on a bridge `rkc<pid>br` in the test's namespace; the bridge holds
// 10.213.X.254, node i holds 10.213.X.i, so the test's clients reach every node
// directly. Every name carries the test's pid, so a later run can sweep what a
// killed run left behind (sweepStaleNetns).
//
// Faults, without iptables/nft:
//   partition: a blackhole route to each node of the other groups, installed
//              in both namespaces of every separated pair (packets dropped
//              silently, as on a real partition: no reset, no error);
//   unplug:    the node's veth set down on the bridge side (clients cut too).

import { execFileSync } from 'node:child_process';
import { assert } from '../../io/assert.ts';
import { type ChaosNetwork, separatedPairs } from './chaos_network.ts';

const IP = 'ip';
const HTTP_PORT = 8001;
const PEER_PORT = 9001;
const PREFIX = 'rkc';

function ip(args: string[]): void {
  execFileSync(IP, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function ipQuiet(args: string[]): void {
  try {
    ip(args);
  } catch {
    // Teardown of something already gone.
  }
}

function ipOut(args: string[]): string {
  return execFileSync(IP, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Whether namespaces can be used here: root, and `ip netns` works. */
export function netnsAvailable(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    ipOut(['netns', 'list']);
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces and bridges of earlier runs whose process is gone; returns how many. */
export function sweepStaleNetns(): number {
  let swept = 0;
  const pattern = new RegExp(`^${PREFIX}(\\d+)(?:n\\d+|br)$`);
  for (const line of ipOut(['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = pattern.exec(name);
    if (m !== null && !pidAlive(Number(m[1]))) {
      ipQuiet(['netns', 'del', name]);
      swept++;
    }
  }
  for (const line of ipOut(['-o', 'link', 'show', 'type', 'bridge']).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '';
    const m = pattern.exec(name);
    if (m !== null && !pidAlive(Number(m[1]))) {
      ipQuiet(['link', 'del', name]);
      swept++;
    }
  }
  return swept;
}

function freeSubnet(): number {
  const used = ipOut(['-o', 'addr', 'show']);
  for (let i = 0; i < 250; i++) {
    const x = (process.pid + i) % 250;
    if (!used.includes(`10.213.${x}.`)) return x;
  }
  throw new Error('no free 10.213.X.0/24 subnet for the chaos bridge');
}

export class NetnsNetwork implements ChaosNetwork {
  readonly mode = 'netns' as const;
  changes = 0;
  private readonly routes = new Set<string>(); // "ns dstIp"
  private readonly unplugged = new Set<string>();
  private closed = false;

  private constructor(
    readonly nodeIds: readonly string[],
    private readonly subnet: number,
  ) {}

  /** Creates the bridge, namespaces and links; tears down what it made if any step fails. */
  static create(nodeIds: readonly string[]): NetnsNetwork {
    assert(nodeIds.length >= 1 && nodeIds.length <= 200, `${nodeIds.length} nodes`);
    sweepStaleNetns();
    const net = new NetnsNetwork(nodeIds, freeSubnet());
    try {
      const br = net.bridge;
      ip(['link', 'add', br, 'type', 'bridge']);
      ip(['addr', 'add', `10.213.${net.subnet}.254/24`, 'dev', br]);
      ip(['link', 'set', br, 'up']);
      nodeIds.forEach((id, i) => {
        const ns = net.ns(id);
        const host = net.veth(id);
        const inner = `${PREFIX}${process.pid}p${i + 1}`;
        ip(['netns', 'add', ns]);
        ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', inner]);
        ip(['link', 'set', inner, 'netns', ns]);
        ip(['-n', ns, 'link', 'set', inner, 'name', 'eth0']);
        ip(['-n', ns, 'addr', 'add', `${net.addr(id)}/24`, 'dev', 'eth0']);
        ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
        ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        ip(['link', 'set', host, 'master', br]);
        ip(['link', 'set', host, 'up']);
      });
    } catch (err) {
      net.closeSync();
      throw err;
    }
    return net;
  }

  private get bridge(): string {
    return `${PREFIX}${process.pid}br`;
  }

  private index(id: string): number {
    const i = this.nodeIds.indexOf(id);
    assert(i >= 0, `unknown node ${id}`);
    return i + 1;
  }

  ns(id: string): string {
    return `${PREFIX}${process.pid}n${this.index(id)}`;
  }

  private veth(id: string): string {
    return `${PREFIX}${process.pid}v${this.index(id)}`;
  }

  addr(id: string): string {
    return `10.213.${this.subnet}.${this.index(id)}`;
  }

  httpUrl(id: string): string {
    return `http://${this.addr(id)}:${HTTP_PORT}`;
  }

  listen(id: string): { http: { host: string; port: number }; peer: { host: string; port: number } } {
    return { http: { host: this.addr(id), port: HTTP_PORT }, peer: { host: this.addr(id), port: PEER_PORT } };
  }

  membersFor(_id: string): Array<{ id: string; address: string }> {
    return this.nodeIds.map((m) => ({ id: m, address: `${this.addr(m)}:${PEER_PORT}` }));
  }

  command(id: string, argv: string[]): { file: string; args: string[] } {
    // `ip netns exec` execs the command in place: the child's pid is the node's.
    return { file: IP, args: ['netns', 'exec', this.ns(id), ...argv] };
  }

  async partition(groups: string[][]): Promise<void> {
    const want = new Set<string>();
    for (const [a, b] of separatedPairs(this.nodeIds, groups)) {
      want.add(`${this.ns(a)} ${this.addr(b)}`);
      want.add(`${this.ns(b)} ${this.addr(a)}`);
    }
    for (const r of [...this.routes]) {
      if (want.has(r)) continue;
      const [ns, dst] = r.split(' ') as [string, string];
      ip(['-n', ns, 'route', 'del', 'blackhole', `${dst}/32`]);
      this.routes.delete(r);
    }
    for (const r of want) {
      if (this.routes.has(r)) continue;
      const [ns, dst] = r.split(' ') as [string, string];
      ip(['-n', ns, 'route', 'add', 'blackhole', `${dst}/32`]);
      this.routes.add(r);
    }
    this.changes++;
  }

  async unplug(id: string): Promise<void> {
    ip(['link', 'set', this.veth(id), 'down']);
    this.unplugged.add(id);
    this.changes++;
  }

  async heal(): Promise<void> {
    await this.partition([[...this.nodeIds]]);
    for (const id of this.unplugged) ip(['link', 'set', this.veth(id), 'up']);
    this.unplugged.clear();
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  /** Synchronous teardown, usable from an exit handler. Deleting a namespace deletes its veth pair. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of this.nodeIds) ipQuiet(['netns', 'del', this.ns(id)]);
    ipQuiet(['link', 'del', this.bridge]);
  }
}
