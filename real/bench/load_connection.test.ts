import fc from 'fast-check';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoadOp, type LoadTarget, openConnection } from './load_connection.ts';

// A fake server answering each request with the next scripted reply, cut
// into arbitrary pieces, and recording what it received.
async function fakeServer(replies: string[], cuts: number[]): Promise<{ port: number; received: () => string; close: () => Promise<void> }> {
  let received = '';
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      // One reply per request begun (a reply may overtake the rest of its request; the client does not mind).
      const begun = (received.match(/(?:PUT|GET) \/kv\/|\*[23]\r\n\$3\r\n/g) ?? []).length;
      while (next < begun && next < replies.length) {
        const reply = Buffer.from(replies[next++]!, 'latin1');
        let at = 0;
        let c = 0;
        while (at < reply.length) {
          const size = Math.max(1, cuts[c++ % cuts.length]!);
          socket.write(reply.subarray(at, at + size));
          at += size;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function send(c: Awaited<ReturnType<typeof openConnection>>, op: LoadOp, key: string, value: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => c.send(op, key, value, resolve));
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('HTTP load connection', () => {
  it('parses replies however they are cut, and judges their status', async () => {
    const value = new Uint8Array(1024).fill(97);
    const replies = [
      'HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n',
      `HTTP/1.1 200 OK\r\ncontent-length: 1024\r\n\r\n${'a'.repeat(1024)}`,
      'HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope\n',
      'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\n\r\n{}',
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }), async (cuts) => {
        const server = await fakeServer(replies, cuts);
        closers.push(server.close);
        const target: LoadTarget = { kind: 'http', host: '127.0.0.1', port: server.port, keyspace: 'default', consistency: 'QUORUM' };
        const c = await openConnection(target);
        expect(await send(c, 'put', 'k1', value)).toBe(true);
        expect(await send(c, 'get', 'k1', value)).toBe(true);
        expect(await send(c, 'get', 'k2', value)).toBe(true); // 404: a key never written
        expect(await send(c, 'get', 'k3', value)).toBe(false); // 503
        expect(c.broken).toBe(false);
        c.close();
        const got = server.received();
        expect(got.startsWith('PUT /kv/default/k1?consistency=QUORUM HTTP/1.1\r\n')).toBe(true);
        expect(got).toContain('Content-Length: 1024\r\n\r\n' + 'a'.repeat(1024));
        expect(got).toContain('GET /kv/default/k2?consistency=QUORUM HTTP/1.1\r\n');
      }),
      { numRuns: 10 },
    );
  });

  it('fails the outstanding request and every later one when the connection drops', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const c = await openConnection({ kind: 'http', host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, keyspace: 'd', consistency: 'ONE' });
    expect(await send(c, 'get', 'k', new Uint8Array(0))).toBe(false);
    expect(c.broken).toBe(true);
    expect(await send(c, 'get', 'k', new Uint8Array(0))).toBe(false);
  });
});

describe('RESP load connection', () => {
  it('speaks SET and GET and parses simple, error, bulk and null replies', async () => {
    const replies = ['+OK\r\n', '$5\r\nhello\r\n', '$-1\r\n', '-ERR wrong\r\n'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), async (cuts) => {
        const server = await fakeServer(replies, cuts);
        closers.push(server.close);
        const c = await openConnection({ kind: 'resp', host: '127.0.0.1', port: server.port });
        const v = new TextEncoder().encode('hello');
        expect(await send(c, 'put', 'k1', v)).toBe(true);
        expect(await send(c, 'get', 'k1', v)).toBe(true);
        expect(await send(c, 'get', 'k2', v)).toBe(true);
        expect(await send(c, 'get', 'k3', v)).toBe(false);
        c.close();
        expect(server.received().startsWith('*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n')).toBe(true);
      }),
      { numRuns: 10 },
    );
  });
});
