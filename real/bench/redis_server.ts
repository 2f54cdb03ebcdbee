// The cluster benchmark's reference: a single-node Redis (Debian's
// redis-server) started for the run with an append-only file fsynced every
// second, on a temporary directory and a free port, stopped afterwards.

import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';

export const REDIS_INSTALL_HINT = 'redis-server is not installed; install it with `apt-get install redis-server` to compare against Redis';

export class RedisServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly version: string,
  ) {}

  /** Starts redis-server on `port` in `dir`; null when the binary is missing. */
  static async start(dir: string, port: number, timeoutMs = 10_000): Promise<RedisServer | null> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no', '--logfile', ''];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
    const spawned = await new Promise<boolean>((resolve, reject) => {
      child.once('spawn', () => resolve(true));
      child.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? resolve(false) : reject(err)));
    });
    if (!spawned) return null;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${output.slice(-500)}`);
      if (await answersPing(port)) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING within ${timeoutMs} ms: ${output.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const version = /(?:v=|version=)(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? 'unknown';
    return new RedisServer(child, port, version);
  }

  get pid(): number {
    return this.child.pid!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  }
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
  });
}
