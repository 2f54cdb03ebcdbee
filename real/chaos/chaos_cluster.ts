// The node processes of a chaos run: one `ringkv start` process per node on
// the ChaosNetwork, each with its own config, data directory and log under
// the run's directory. Nodes are killed with SIGKILL (no shutdown: whatever
// the kernel had not written is the node's problem, as on a power cut of the
// process) and restarted on the same data directory.
//
//   <dir>/cluster.secret   peer secret (hex)      <dir>/api.token   HTTP token
//   <dir>/n1.json ...      node configs           <dir>/n1/ ...     data dirs
//   <dir>/logs/n1.log ...  JSON logs, appended across restarts

import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assert } from '../../io/assert.ts';
import { NODE_PROCESS_V8_FLAGS } from '../node_v8_flags.ts';
import { generateSecretHex } from '../peer_auth.ts';
import type { ChaosNetwork } from './chaos_network.ts';

export interface ChaosClusterOptions {
  dir: string;
  network: ChaosNetwork;
  /** The `ringkv` entry point (bin/ringkv.mjs). */
  binPath: string;
  vnodes: number;
  replicationFactor: number;
  requestTimeoutMs: number;
  startTimeoutMs: number;
  logLevel: string;
  /** Lines for the operator (a node's stderr, unexpected exits). */
  report: (line: string) => void;
}

interface NodeProcess {
  child: ChildProcess;
  exited: Promise<void>;
  expectedExit: boolean;
}

export class ChaosCluster {
  readonly apiToken = generateSecretHex().slice(0, 32);
  private readonly procs = new Map<string, NodeProcess>();
  /** Exits nobody asked for (a crash of the node itself), with the exit code or signal. */
  readonly unexpectedExits: string[] = [];
  kills = 0;
  restarts = 0;

  constructor(private readonly o: ChaosClusterOptions) {
    fs.mkdirSync(path.join(o.dir, 'logs'), { recursive: true });
    fs.writeFileSync(path.join(o.dir, 'cluster.secret'), generateSecretHex() + '\n', { mode: 0o600 });
    fs.writeFileSync(path.join(o.dir, 'api.token'), this.apiToken + '\n', { mode: 0o600 });
    for (const id of o.network.nodeIds) {
      const l = o.network.listen(id);
      const config = {
        nodeId: id,
        cluster: 'chaos',
        dataDir: id,
        http: { ...l.http, apiTokenFile: 'api.token' },
        peer: l.peer,
        secretFile: 'cluster.secret',
        members: o.network.membersFor(id),
        vnodes: o.vnodes,
        keyspaces: [{ name: 'default', replicationFactor: o.replicationFactor }],
        requestTimeoutMs: o.requestTimeoutMs,
        log: { level: o.logLevel, file: path.join('logs', `${id}.log`) },
        shutdownTimeoutMs: 5000,
      };
      fs.writeFileSync(this.configFile(id), JSON.stringify(config, null, 2) + '\n');
    }
  }

  get ids(): readonly string[] {
    return this.o.network.nodeIds;
  }

  configFile(id: string): string {
    return path.join(this.o.dir, `${id}.json`);
  }

  logFile(id: string): string {
    return path.join(this.o.dir, 'logs', `${id}.log`);
  }

  isUp(id: string): boolean {
    return this.procs.has(id);
  }

  upIds(): string[] {
    return this.ids.filter((id) => this.procs.has(id));
  }

  /** Starts every node; resolves once all serve. */
  async startAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.start(id)));
  }

  /** Starts one node and resolves once it serves (its `ready` message). */
  async start(id: string): Promise<void> {
    assert(!this.procs.has(id), `${id} is already running`);
    const { file, args } = this.o.network.command(id, [process.execPath, ...NODE_PROCESS_V8_FLAGS, this.o.binPath, 'start', '--config', this.configFile(id)]);
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const proc: NodeProcess = { child, exited: new Promise((resolve) => child.once('exit', () => resolve())), expectedExit: false };
    this.procs.set(id, proc);
    child.stderr!.setEncoding('utf8');
    const stderrTail: string[] = [];
    child.stderr!.on('data', (text: string) => {
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        this.o.report(`[${id}] ${line}`);
        stderrTail.push(line);
        if (stderrTail.length > 5) stderrTail.shift();
      }
    });
    child.once('exit', (code, signal) => {
      if (this.procs.get(id) === proc) this.procs.delete(id);
      if (!proc.expectedExit) {
        const why = `${id} (pid ${child.pid}) exited by itself with ${signal ?? `code ${code}`}; see ${this.logFile(id)}`;
        this.unexpectedExits.push(why);
        this.o.report(why);
      }
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('message', (m: { type?: string }) => {
          if (m?.type === 'ready') resolve();
        });
        child.once('exit', (code, signal) =>
          reject(new Error(`${id} exited with ${signal ?? `code ${code}`} before serving (stderr: ${stderrTail.join(' | ') || 'nothing'}); see ${this.logFile(id)}`)),
        );
        timer = setTimeout(() => reject(new Error(`${id} did not serve within ${this.o.startTimeoutMs} ms; see ${this.logFile(id)}`)), this.o.startTimeoutMs);
      });
    } catch (err) {
      await this.kill(id);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILLs a node and waits until it is gone. */
  async kill(id: string): Promise<void> {
    const proc = this.procs.get(id);
    if (proc === undefined) return;
    proc.expectedExit = true;
    proc.child.kill('SIGKILL');
    await proc.exited;
    this.procs.delete(id);
  }

  async crash(id: string): Promise<void> {
    await this.kill(id);
    this.kills++;
  }

  /** How long each restart took until the node served again (ms). */
  readonly restartMs: number[] = [];

  async restart(id: string): Promise<void> {
    const started = performance.now();
    await this.start(id);
    this.restartMs.push(Math.round(performance.now() - started));
    this.restarts++;
  }

  /** Kills every node (the end of a run, or a failure); idempotent. */
  async killAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.kill(id)));
  }

  /** Synchronous last resort from an exit handler. */
  killAllSync(): void {
    for (const proc of this.procs.values()) {
      proc.expectedExit = true;
      proc.child.kill('SIGKILL');
    }
  }
}
