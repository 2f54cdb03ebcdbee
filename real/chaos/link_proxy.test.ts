import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { separatedPairs } from './chaos_network.ts';
import { LinkProxy } from './link_proxy.ts';

/** A loopback server; close() destroys its open connections too. */
async function serve(handler: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    handler(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const echoServer = () => serve((s) => s.pipe(s));

/** Connects to `port`, sends `text`, resolves with what came back or the error's code. */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (got.length >= text.length) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    s.on('close', () => resolve(got === '' ? 'closed' : got));
  });
}

describe('LinkProxy', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('forwards while whole, refuses and resets while cut, forwards again once restored', async () => {
    const server = await echoServer();
    cleanup.push(server.close);
    const proxy = await LinkProxy.listen('127.0.0.1', { host: '127.0.0.1', port: server.port });
    cleanup.push(() => proxy.close());
    expect(await roundTrip(proxy.port, 'hello')).toBe('hello');

    // An open connection is reset by the cut.
    const open = net.connect(proxy.port, '127.0.0.1');
    await new Promise((r) => open.once('connect', r));
    const closed = new Promise((r) => open.once('close', r));
    await new Promise((r) => setTimeout(r, 20));
    proxy.setCut(true);
    await closed;
    expect(await roundTrip(proxy.port, 'during')).toBe('closed');
    expect(proxy.resets).toBeGreaterThanOrEqual(2);

    proxy.setCut(false);
    expect(await roundTrip(proxy.port, 'again')).toBe('again');
  });

  it('retargets new connections to another port', async () => {
    const a = await echoServer();
    const b = await serve((s) => s.end('from b'));
    cleanup.push(a.close, b.close);
    const proxy = await LinkProxy.listen('127.0.0.1', { host: '127.0.0.1', port: a.port });
    cleanup.push(() => proxy.close());
    expect(await roundTrip(proxy.port, 'x')).toBe('x');
    proxy.retarget(b.port);
    expect(await roundTrip(proxy.port, 'xxxxxx')).toBe('from b');
  });
});

describe('separatedPairs', () => {
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];

  it('one group separates nothing; isolating a node separates it from every other', () => {
    expect(separatedPairs(ids, [ids])).toEqual([]);
    expect(separatedPairs(ids, [['n3'], ['n1', 'n2', 'n4', 'n5']])).toEqual([['n1', 'n3'], ['n2', 'n3'], ['n3', 'n4'], ['n3', 'n5']]);
  });

  it('halves separate every cross pair and no pair within a half; unnamed nodes stand alone', () => {
    const pairs = separatedPairs(ids, [['n1', 'n4'], ['n2', 'n3', 'n5']]);
    expect(pairs).toHaveLength(6);
    for (const [a, b] of pairs) expect(['n1', 'n4'].includes(a) !== ['n1', 'n4'].includes(b)).toBe(true);
    expect(separatedPairs(['a', 'b', 'c'], [['a', 'b']])).toEqual([['a', 'c'], ['b', 'c']]);
  });
});
