// The cluster benchmark's Node.js ceiling: three processes that do only the
// transport part of a QUORUM request, with no storage and no protocol. Each
// is an HTTP server speaking enough of the /kv API for the load generator;
// on every request it sends one small message to each of the other two over
// TCP and answers after the first reply (a quorum of 2 with itself), as a
// ringkv coordinator does. Driven by the same generator on the same cores as
// the ringkv cluster, its throughput and CPU per operation say what Node
// itself allows on this machine, so the ringkv figure can be read as a
// fraction of it.
//
// Peer messages are length-prefixed: length:u32le id:u32le op:u8 padding,
// the padding sized as ringkv's (a put carries the value, a get a key); a
// reply echoes id and op. No authentication: this is a yardstick, never a
// server to expose.
//
// Run as a child process (RelayCeiling.start): argv is index, the three
// HTTP ports and the three peer ports; it says 'ready' over IPC once its
// links to both peers are connected.

import { type ChildProcess, fork } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { assert } from '../../io/assert.ts';

const OP_GET = 1;
const OP_PUT = 2;
/** A put request and a get's reply carry a 1 KiB value and its version; the others a key or an ack. */
const VALUE_MESSAGE_BYTES = 5 + 1100;
const SMALL_MESSAGE_BYTES = 5 + 20;

/** Cuts a byte stream into length-prefixed messages. */
function onMessages(socket: net.Socket, handle: (m: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length > 0 ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const n = buf.readUInt32LE(0);
      if (buf.length < 4 + n) break;
      handle(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
    }
  });
}

function message(id: number, op: number, bytes: number): Buffer {
  const b = Buffer.alloc(4 + bytes);
  b.writeUInt32LE(bytes, 0);
  b.writeUInt32LE(id, 4);
  b[8] = op;
  return b;
}

function runRelayProcess(index: number, httpPorts: number[], peerPorts: number[]): void {
  const value = Buffer.alloc(1024, 97);
  const pending = new Map<number, () => void>();
  let nextId = 1;
  const peers: net.Socket[] = [];

  net
    .createServer((s) => {
      s.setNoDelay(true);
      onMessages(s, (m) => {
        const op = m[4]!;
        s.write(message(m.readUInt32LE(0), op, op === OP_GET ? VALUE_MESSAGE_BYTES : SMALL_MESSAGE_BYTES));
      });
    })
    .listen(peerPorts[index], '127.0.0.1');

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = req.method === 'GET' ? OP_GET : OP_PUT;
      let need = 1;
      const done = () => {
        if (--need !== 0) return;
        if (op === OP_GET) {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(value.length) });
          res.end(value);
        } else {
          res.writeHead(204);
          res.end();
        }
      };
      for (const p of peers) {
        const id = nextId++;
        pending.set(id, done);
        p.write(message(id, op, op === OP_PUT ? VALUE_MESSAGE_BYTES : SMALL_MESSAGE_BYTES));
      }
    });
  });

  let ready = false;
  // Every process binds first, then connects: a peer may not listen yet, so
  // a failed attempt closes what it opened and starts over; after the start a
  // lost peer ends the run.
  const connectPeers = (attempt: number) => {
    let open = 0;
    let failed = false;
    const opened: net.Socket[] = [];
    const others = peerPorts.filter((_, j) => j !== index);
    for (const port of others) {
      const s = net.connect(port, '127.0.0.1');
      opened.push(s);
      s.setNoDelay(true);
      s.on('error', () => {
        if (ready) process.exit(1);
        if (failed) return;
        failed = true;
        for (const o of opened) o.destroy();
        if (attempt < 100) setTimeout(() => connectPeers(attempt + 1), 50);
        else process.exit(1);
      });
      s.once('connect', () => {
        if (failed || ++open < others.length) return;
        ready = true;
        peers.push(...opened);
        server.listen(httpPorts[index], '127.0.0.1', () => process.send!({ type: 'ready' }));
      });
      onMessages(s, (m) => {
        const id = m.readUInt32LE(0);
        const cb = pending.get(id);
        if (cb === undefined) return;
        pending.delete(id);
        cb();
      });
    }
  };
  connectPeers(0);
  process.on('disconnect', () => process.exit(0));
}

/** The three relay processes, for the benchmark. */
export class RelayCeiling {
  private constructor(private readonly children: ChildProcess[]) {}

  static async start(httpPorts: number[], peerPorts: number[], timeoutMs = 30_000): Promise<RelayCeiling> {
    assert(httpPorts.length === 3 && peerPorts.length === 3, 'the relay runs three processes');
    const entry = fileURLToPath(import.meta.url);
    const children = httpPorts.map((_, i) =>
      fork(entry, [String(i), httpPorts.join(','), peerPorts.join(',')], { execArgv: ['--import', 'tsx'], env: { ...process.env, RINGKV_RELAY_CEILING: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const relay = new RelayCeiling(children);
    try {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`relay process not ready within ${timeoutMs} ms`)), timeoutMs);
              child.once('exit', (code) => reject(new Error(`relay process exited with ${code} before it was ready`)));
              child.once('message', (m: { type: string }) => {
                clearTimeout(timer);
                if (m.type === 'ready') resolve();
                else reject(new Error(`relay process said ${m.type}`));
              });
            }),
        ),
      );
    } catch (err) {
      relay.stop();
      throw err;
    }
    for (const c of children) c.removeAllListeners('exit');
    return relay;
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  stop(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
}

if (process.env.RINGKV_RELAY_CEILING === '1' && process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  runRelayProcess(Number(process.argv[2]), process.argv[3]!.split(',').map(Number), process.argv[4]!.split(',').map(Number));
}
