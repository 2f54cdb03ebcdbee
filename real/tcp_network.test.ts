import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../io/frame_codec.ts';
import { NodeRng } from './node_rng.ts';
import { clientProof, generateSecretHex, newNonce, parseSecretHex, sessionKey, FrameSealer } from './peer_auth.ts';
import { PEER_WIRE_VERSION, RECORD_BATCH, encodePeerMessage, recordBuffer, sealRecord } from './peer_wire.ts';
import { TcpNetwork, type TcpNetworkOptions } from './tcp_network.ts';
import { capturedLogger, freePorts, waitFor } from './test_ports.testkit.ts';
import { WallClock } from './wall_clock.ts';

const secret = parseSecretHex(generateSecretHex());
const open: TcpNetwork[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((n) => n.close()));
});

type Received = Array<{ from: string; frame: Uint8Array }>;

async function start(id: string, ports: Record<string, number>, extra: Partial<TcpNetworkOptions> = {}) {
  const log = capturedLogger();
  const network = await TcpNetwork.listen({
    nodeId: id,
    cluster: 'test',
    secret,
    listenHost: '127.0.0.1',
    listenPort: ports[id]!,
    members: Object.entries(ports).map(([mid, port]) => ({ id: mid, host: '127.0.0.1', port })),
    clock: new WallClock(),
    rng: new NodeRng(),
    logger: log.logger,
    backoffMinMs: 20,
    backoffMaxMs: 200,
    heartbeatIntervalMs: 50,
    handshakeTimeoutMs: 500,
    ...extra,
  });
  open.push(network);
  const received: Received = [];
  network.onFrame((from, frame) => received.push({ from, frame }));
  return { network, received, log };
}

const frameOf = (i: number) => encodeFrame({ t: 'ping', id: i });
const idOf = (frame: Uint8Array) => (decodeFrame(frame)!.message as { id: number }).id;

async function rawConnect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

const closedSoon = (socket: net.Socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));

describe('TcpNetwork', () => {
  it('carries frames both ways in order, naming the sender, and reports heartbeats as phi', async () => {
    const [pa, pb] = await freePorts(2);
    const ports = { a: pa!, b: pb! };
    const a = await start('a', ports);
    const b = await start('b', ports);
    for (let i = 0; i < 500; i++) a.network.send('b', frameOf(i));
    for (let i = 0; i < 50; i++) b.network.send('a', frameOf(i));
    await waitFor('frames', () => b.received.length === 500 && a.received.length === 50);
    expect(b.received.map((r) => idOf(r.frame))).toEqual([...Array(500).keys()]);
    expect(new Set(b.received.map((r) => r.from))).toEqual(new Set(['a']));
    expect(a.received.every((r) => r.from === 'b')).toBe(true);
    await waitFor('heartbeats', () => a.network.peerStatus()[0]!.phi !== null);
    const status = a.network.peerStatus()[0]!;
    expect(status).toMatchObject({ id: 'b', link: 'ready', inbound: 1, suspected: false });
  });

  it('moves a large frame and many frames under back-pressure without loss', async () => {
    const [pa, pb] = await freePorts(2);
    const ports = { a: pa!, b: pb! };
    const a = await start('a', ports);
    const b = await start('b', ports);
    const big = encodeFrame({ t: 'blob', data: new Uint8Array(8 * 1024 * 1024).fill(7) });
    a.network.send('b', big);
    for (let i = 0; i < 2000; i++) a.network.send('b', encodeFrame({ t: 'x', id: i, pad: new Uint8Array(4096) }));
    await waitFor('all frames', () => b.received.length === 2001, 20_000);
    // Compared as buffers: a deep equality over 8 MiB element by element takes minutes.
    expect(Buffer.compare(b.received[0]!.frame, big)).toBe(0);
    expect(b.received.slice(1).map((r) => idOf(r.frame))).toEqual([...Array(2000).keys()]);
  });

  it('reconnects after the peer restarts and drops frames beyond the queue bound while it is away', async () => {
    const [pa, pb] = await freePorts(2);
    const ports = { a: pa!, b: pb! };
    const a = await start('a', ports, { maxQueueFrames: 5 });
    let b = await start('b', ports);
    a.network.send('b', frameOf(1));
    await waitFor('first frame', () => b.received.length === 1);
    await b.network.close();
    await waitFor('link down', () => a.network.peerStatus()[0]!.link !== 'ready');
    for (let i = 0; i < 20; i++) a.network.send('b', frameOf(100 + i));
    expect(a.network.peerStatus()[0]!.framesDropped).toBe(15);
    b = await start('b', ports);
    await waitFor('queued frames after reconnect', () => b.received.length === 5);
    expect(b.received.map((r) => idOf(r.frame))).toEqual([100, 101, 102, 103, 104]);
    a.network.send('b', frameOf(7));
    await waitFor('new frame', () => b.received.length === 6);
  });

  it('refuses a node holding another secret: nothing is delivered either way', async () => {
    const [pa, pb] = await freePorts(2);
    const ports = { a: pa!, b: pb! };
    const a = await start('a', ports);
    const b = await start('b', ports, { secret: parseSecretHex(generateSecretHex()) });
    for (let i = 0; i < 10; i++) {
      a.network.send('b', frameOf(i));
      b.network.send('a', frameOf(i));
    }
    // Each side's link finds that the other cannot prove the secret and gives up on the connection.
    const refusedReason = (log: typeof a.log) =>
      log.lines.some((l) => l.msg === 'peer link cannot connect' && l.reason === 'peer failed to prove the cluster secret');
    await waitFor('refusals logged', () => refusedReason(a.log) && refusedReason(b.log));
    await new Promise((r) => setTimeout(r, 200));
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
    expect(a.network.counters.framesReceived + b.network.counters.framesReceived).toBe(0);
    expect(a.network.peerStatus()[0]!.link).not.toBe('ready');
  });

  it('closes and logs connections sending garbage, an oversized length prefix, or nothing', async () => {
    const [pa, pb] = await freePorts(2);
    const a = await start('a', { a: pa!, b: pb! }, { handshakeTimeoutMs: 300 });

    const random = await rawConnect(pa!);
    random.write(Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff)));
    await closedSoon(random);

    const oversized = await rawConnect(pa!);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(0xfffffff0, 0);
    oversized.write(header);
    await closedSoon(oversized);

    const silent = await rawConnect(pa!);
    await closedSoon(silent);

    const reasons = a.log.lines.filter((l) => l.msg === 'peer connection rejected').map((l) => String(l.reason));
    expect(reasons.some((r) => /checksum|exceeds|undecodable|unknown|not a map/.test(r))).toBe(true);
    expect(reasons.some((r) => /frame length \d+ exceeds 1024/.test(r))).toBe(true);
    expect(reasons).toContain('handshake timed out');
    expect(a.received).toEqual([]);
    expect(a.network.counters.connectionsRejected).toBe(3);
  });

  it('rejects a stranger that cannot prove the secret, and a frame with a wrong MAC after a valid handshake', async () => {
    const [pa, pb] = await freePorts(2);
    const a = await start('a', { a: pa!, b: pb! });

    const stranger = await rawConnect(pa!);
    stranger.write(encodePeerMessage({ t: 'hello', v: PEER_WIRE_VERSION, cluster: 'test', from: 'mallory', to: 'a', nonce: newNonce(), addr: '127.0.0.1:1' }));
    await new Promise((resolve) => stranger.once('data', resolve)); // the challenge
    stranger.write(encodePeerMessage({ t: 'auth', proof: new Uint8Array(32) }));
    await closedSoon(stranger);
    expect(a.network.peerStatus().map((p) => p.id)).toEqual(['b']); // nothing learned from it

    // A client that knows the secret authenticates, sends one good frame, then one with a forged MAC.
    const socket = await rawConnect(pa!);
    const clientNonce = newNonce();
    socket.write(encodePeerMessage({ t: 'hello', v: PEER_WIRE_VERSION, cluster: 'test', from: 'b', to: 'a', nonce: clientNonce, addr: `127.0.0.1:${pb}` }));
    const challenge = await new Promise<Uint8Array>((resolve) => socket.once('data', (d: Buffer) => resolve(new Uint8Array(d))));
    const { nonce } = decodeFrame(challenge)!.message as { nonce: Uint8Array };
    const t = { cluster: 'test', clientId: 'b', serverId: 'a', clientAddress: `127.0.0.1:${pb}`, clientNonce, serverNonce: new Uint8Array(nonce) };
    socket.write(encodePeerMessage({ t: 'auth', proof: clientProof(secret, t) }));
    const sealer = new FrameSealer(sessionKey(secret, t));
    const send = (frame: Uint8Array, forged: boolean) => {
      const record = recordBuffer(RECORD_BATCH, [frame]);
      socket.write(sealRecord(record, forged ? new Uint8Array(16) : sealer.sealInPlace(record)));
    };
    send(frameOf(1), false);
    send(frameOf(2), true);
    send(frameOf(3), false);
    await closedSoon(socket);

    expect(a.received.map((r) => [r.from, idOf(r.frame)])).toEqual([['b', 1]]);
    const reasons = a.log.lines.filter((l) => l.msg === 'peer connection rejected').map((l) => String(l.reason));
    expect(reasons).toEqual(['mallory failed to prove the cluster secret', 'record from b failed its MAC']);
  });

  it('links to a node it was not configured with once that node proves the secret, at the address its hello names', async () => {
    const [pa, pc] = await freePorts(2);
    const a = await start('a', { a: pa! }); // knows only itself
    const c = await start('c', { a: pa!, c: pc! });
    c.network.send('a', frameOf(1));
    await waitFor('a hears c', () => a.received.length === 1);
    await waitFor('a links to c', () => a.network.peerStatus().some((p) => p.id === 'c' && p.link === 'ready'));
    expect(a.network.peerStatus().find((p) => p.id === 'c')!.address).toBe(`127.0.0.1:${pc}`);
    a.network.send('c', frameOf(2));
    await waitFor('c hears a', () => c.received.length === 1);
    expect(c.received.map((r) => [r.from, idOf(r.frame)])).toEqual([['a', 2]]);
    expect(a.log.messages()).toContain('peer learned');
  });

  it('learnAddress: links to an address gossip reports, moves a link whose peer moved, ignores what does not parse', async () => {
    const [pa, pb, pb2] = await freePorts(3);
    const a = await start('a', { a: pa! });
    a.network.learnAddress('b', 'not an address');
    a.network.learnAddress('b', '127.0.0.1:0');
    a.network.learnAddress('a', `127.0.0.1:${pb}`); // itself
    a.network.learnAddress('../b', `127.0.0.1:${pb}`); // not a node id
    expect(a.network.peerStatus()).toEqual([]);
    a.network.learnAddress('v6', '[::1]:1');
    expect(a.network.peerStatus().map((p) => p.address)).toEqual(['[::1]:1']);
    a.network.learnAddress('v6', '[::1]:1'); // known: nothing changes
    expect(a.log.messages().filter((m) => m === 'peer moved to a new address')).toEqual([]);
    a.network.learnAddress('b', `127.0.0.1:${pb}`);
    const b = await start('b', { a: pa!, b: pb! });
    a.network.send('b', frameOf(1));
    await waitFor('b hears a', () => b.received.length === 1);
    await b.network.close();
    const moved = await start('b', { a: pa!, b: pb2! });
    a.network.learnAddress('b', `127.0.0.1:${pb2}`);
    expect(a.network.peerStatus().map((p) => [p.id, p.address])).toEqual([['b', `127.0.0.1:${pb2}`], ['v6', '[::1]:1']]);
    a.network.send('b', frameOf(2));
    await waitFor('moved b hears a', () => moved.received.length === 1);
    expect(a.log.messages()).toContain('peer moved to a new address');
  });

  it('refuses inbound connections over the limit', async () => {
    const [pa, pb] = await freePorts(2);
    const a = await start('a', { a: pa!, b: pb! }, { maxInboundConnections: 2 });
    const held = [await rawConnect(pa!), await rawConnect(pa!)];
    await waitFor('two accepted', () => a.network.counters.connectionsAccepted === 2);
    const third = await rawConnect(pa!);
    await closedSoon(third);
    expect(held.every((s) => !s.closed)).toBe(true);
    expect(a.log.messages()).toContain('peer connection refused: too many open');
  });
});
