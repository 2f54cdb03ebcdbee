// Chaos network on loopback ports, for machines without namespaces: every
// node listens on its own HTTP and peer ports on 127.0.0.1, and node A's
// member list names, for every other node B, a LinkProxy that forwards to B's
// peer port. A partition cuts the proxies of both directions of every
// separated pair. Clients talk to the nodes directly, so `unplug` can only
// isolate a node from its peers here.

import { assert } from '../../io/assert.ts';
import { freePorts } from '../test_ports.testkit.ts';
import { type ChaosNetwork, separatedPairs } from './chaos_network.ts';
import { LinkProxy } from './link_proxy.ts';

const HOST = '127.0.0.1';

export class LoopbackNetwork implements ChaosNetwork {
  readonly mode = 'loopback' as const;
  changes = 0;
  private closed = false;

  private constructor(
    readonly nodeIds: readonly string[],
    private readonly ports: Map<string, { http: number; peer: number }>,
    /** "from to" -> the proxy `from` dials to reach `to`. */
    private readonly proxies: Map<string, LinkProxy>,
  ) {}

  static async create(nodeIds: readonly string[]): Promise<LoopbackNetwork> {
    const free = await freePorts(nodeIds.length * 2);
    const ports = new Map(nodeIds.map((id, i) => [id, { http: free[2 * i]!, peer: free[2 * i + 1]! }]));
    const proxies = new Map<string, LinkProxy>();
    const net = new LoopbackNetwork(nodeIds, ports, proxies);
    try {
      for (const from of nodeIds) {
        for (const to of nodeIds) {
          if (from !== to) proxies.set(`${from} ${to}`, await LinkProxy.listen(HOST, { host: HOST, port: ports.get(to)!.peer }));
        }
      }
    } catch (err) {
      await net.close();
      throw err;
    }
    return net;
  }

  private port(id: string): { http: number; peer: number } {
    const p = this.ports.get(id);
    assert(p !== undefined, `unknown node ${id}`);
    return p;
  }

  httpUrl(id: string): string {
    return `http://${HOST}:${this.port(id).http}`;
  }

  listen(id: string): { http: { host: string; port: number }; peer: { host: string; port: number } } {
    return { http: { host: HOST, port: this.port(id).http }, peer: { host: HOST, port: this.port(id).peer } };
  }

  membersFor(id: string): Array<{ id: string; address: string }> {
    return this.nodeIds.map((m) => ({ id: m, address: `${HOST}:${m === id ? this.port(m).peer : this.proxies.get(`${id} ${m}`)!.port}` }));
  }

  command(_id: string, argv: string[]): { file: string; args: string[] } {
    return { file: argv[0]!, args: argv.slice(1) };
  }

  async partition(groups: string[][]): Promise<void> {
    const cut = new Set<string>();
    for (const [a, b] of separatedPairs(this.nodeIds, groups)) {
      cut.add(`${a} ${b}`);
      cut.add(`${b} ${a}`);
    }
    for (const [link, proxy] of this.proxies) proxy.setCut(cut.has(link));
    this.changes++;
  }

  async unplug(id: string): Promise<void> {
    for (const [link, proxy] of this.proxies) {
      const [from, to] = link.split(' ');
      if (from === id || to === id) proxy.setCut(true);
    }
    this.changes++;
  }

  async heal(): Promise<void> {
    for (const proxy of this.proxies.values()) proxy.setCut(false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }
}
