// A TCP proxy for one directed peer link (node A dialling node B) on
// loopback, so a test can cut that link when network namespaces are not
// available: A's member list names the proxy as B's address. Cutting resets
// every connection through the proxy and refuses new ones (they are accepted
// and closed at once) until the link is restored. A node that dials out over
// its own link and answers on it is cut both ways by cutting that one proxy;
// a partition cuts the proxies of both directions.

import * as net from 'node:net';
import { assert } from '../../io/assert.ts';

export class LinkProxy {
  private cut = false;
  private readonly sockets = new Set<net.Socket>();
  /** Connections reset or refused while cut (for the summary). */
  resets = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Listens on `host`, a free port; forwards to `target` (whose port may be set later, see retarget). */
  static async listen(host: string, target: { host: string; port: number }): Promise<LinkProxy> {
    let proxy: LinkProxy | null = null;
    const server = net.createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    proxy = new LinkProxy(server, port, { ...target });
    return proxy;
  }

  get isCut(): boolean {
    return this.cut;
  }

  /** Resets every connection and refuses new ones. */
  setCut(cut: boolean): void {
    this.cut = cut;
    if (!cut) return;
    for (const s of this.sockets) {
      this.resets++;
      s.destroy();
    }
    this.sockets.clear();
  }

  /** Forwards new connections to `port` from now on (a node restarted on another port). */
  retarget(port: number): void {
    assert(Number.isInteger(port) && port > 0 && port < 65536, `bad port ${port}`);
    this.target.port = port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.cut) {
      this.resets++;
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
