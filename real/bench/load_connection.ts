// One keep-alive client connection of the cluster benchmark's load
// generator, with one request outstanding at a time: raw HTTP/1.1 to a
// ringkv node, or RESP to Redis. Both are written directly on a socket (no
// node:http, no client library) so the generator spends as little CPU per
// request as possible on a machine the servers share, and both sides of the
// comparison pay the same client cost.

import * as net from 'node:net';
import { assert } from '../../io/assert.ts';

export type LoadOp = 'get' | 'put';

/** Called once per request: `ok` false for an error status or a broken connection. */
export type LoadCallback = (ok: boolean) => void;

export interface LoadConnection {
  /** The connection failed or was closed; every further send fails at once. */
  readonly broken: boolean;
  send(op: LoadOp, key: string, value: Uint8Array, cb: LoadCallback): void;
  close(): void;
}

export interface HttpTarget {
  kind: 'http';
  host: string;
  port: number;
  keyspace: string;
  consistency: string;
}

export interface RespTarget {
  kind: 'resp';
  host: string;
  port: number;
}

export type LoadTarget = HttpTarget | RespTarget;

export function openConnection(target: LoadTarget): Promise<LoadConnection> {
  const socket = net.connect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(target.kind === 'http' ? new HttpConnection(socket, target) : new RespConnection(socket));
    });
  });
}

/** Bytes received and not yet parsed, as one growing buffer. */
class InBuffer {
  buf: Buffer = Buffer.alloc(0);
  at = 0;

  push(chunk: Buffer): void {
    if (this.at === this.buf.length) {
      this.buf = chunk;
      this.at = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.at), chunk]);
      this.at = 0;
    }
  }

  get available(): number {
    return this.buf.length - this.at;
  }

  /** Index just past the next occurrence of `marker` at or after the read position, or -1. */
  find(marker: string): number {
    const i = this.buf.indexOf(marker, this.at, 'latin1');
    return i === -1 ? -1 : i + marker.length;
  }
}

abstract class OneAtATime implements LoadConnection {
  protected pending: LoadCallback | null = null;
  protected readonly input = new InBuffer();
  broken = false;

  constructor(protected readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.input.push(chunk);
      try {
        while (this.pending !== null && this.parse()) {
          // parse() completed one reply and called back
        }
      } catch {
        this.fail();
      }
    });
    socket.on('error', () => this.fail());
    socket.on('close', () => this.fail());
  }

  send(op: LoadOp, key: string, value: Uint8Array, cb: LoadCallback): void {
    assert(this.pending === null, 'a request is already outstanding on this connection');
    if (this.broken) return queueMicrotask(() => cb(false));
    this.pending = cb;
    this.write(op, key, value);
  }

  close(): void {
    this.broken = true;
    this.socket.destroy();
  }

  protected finish(ok: boolean): void {
    const cb = this.pending!;
    this.pending = null;
    cb(ok);
  }

  private fail(): void {
    this.broken = true;
    this.socket.destroy();
    if (this.pending !== null) this.finish(false);
  }

  protected abstract write(op: LoadOp, key: string, value: Uint8Array): void;
  /** Parses one complete reply if buffered (calling finish) and returns true; false when more bytes are needed. */
  protected abstract parse(): boolean;
}

class HttpConnection extends OneAtATime {
  private readonly query: string;
  private readonly prefix: string;

  constructor(socket: net.Socket, target: HttpTarget) {
    super(socket);
    this.query = `?consistency=${target.consistency}`;
    this.prefix = `/kv/${target.keyspace}/`;
  }

  protected write(op: LoadOp, key: string, value: Uint8Array): void {
    if (op === 'get') {
      this.socket.write(`GET ${this.prefix}${key}${this.query} HTTP/1.1\r\nHost: bench\r\n\r\n`, 'latin1');
    } else {
      // One write(2) for head and body.
      this.socket.cork();
      this.socket.write(`PUT ${this.prefix}${key}${this.query} HTTP/1.1\r\nHost: bench\r\nContent-Length: ${value.length}\r\n\r\n`, 'latin1');
      this.socket.write(value);
      this.socket.uncork();
    }
  }

  protected parse(): boolean {
    const inb = this.input;
    const headEnd = inb.find('\r\n\r\n');
    if (headEnd === -1) return false;
    // Read from the bytes, without turning the head into a string: this runs once per request.
    const buf = inb.buf;
    const at = inb.at;
    const status = (buf[at + 9]! - 48) * 100 + (buf[at + 10]! - 48) * 10 + (buf[at + 11]! - 48);
    // The messages are built only on failure: a template argument would be built on every reply.
    if (buf.indexOf(HTTP_1_1, at) !== at || !(status >= 100 && status <= 599)) assert(false, `malformed status line ${buf.toString('latin1', at, Math.min(headEnd, at + 40))}`);
    const length = contentLength(buf, at, headEnd);
    if (length === null && status !== 204 && status !== 304) assert(false, `reply ${status} without content-length (chunked replies are not expected)`);
    const bodyBytes = length ?? 0;
    if (buf.length - headEnd < bodyBytes) return false;
    inb.at = headEnd + bodyBytes;
    // 404 is a valid answer for a key never written.
    this.finish(status < 300 || status === 404);
    return true;
  }
}

const HTTP_1_1 = Buffer.from('HTTP/1.1 ', 'latin1');
const CONTENT_LENGTH = Buffer.from('\r\ncontent-length:', 'latin1');

/** The content-length of the head buf[at..end), or null without one. ringkv's server writes the name in lower case. */
function contentLength(buf: Buffer, at: number, end: number): number | null {
  let i = buf.indexOf(CONTENT_LENGTH, at);
  if (i === -1 || i >= end) {
    const m = /\r\ncontent-length: *(\d+)/i.exec(buf.toString('latin1', at, end));
    return m === null ? null : Number(m[1]);
  }
  i += CONTENT_LENGTH.length;
  while (buf[i] === 32) i++;
  let n = 0;
  let digits = 0;
  for (let c = buf[i]!; c >= 48 && c <= 57; c = buf[++i]!) {
    n = n * 10 + (c - 48);
    digits++;
  }
  assert(digits > 0, 'content-length without digits');
  return n;
}

class RespConnection extends OneAtATime {
  protected write(op: LoadOp, key: string, value: Uint8Array): void {
    if (op === 'get') {
      this.socket.write(`*2\r\n$3\r\nGET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`, 'latin1');
    } else {
      this.socket.cork();
      this.socket.write(`*3\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${value.length}\r\n`, 'latin1');
      this.socket.write(value);
      this.socket.write('\r\n', 'latin1');
      this.socket.uncork();
    }
  }

  protected parse(): boolean {
    const inb = this.input;
    const lineEnd = inb.find('\r\n');
    if (lineEnd === -1) return false;
    const type = String.fromCharCode(inb.buf[inb.at]!);
    if (type === '+' || type === '-') {
      inb.at = lineEnd;
      this.finish(type === '+');
      return true;
    }
    if (type !== '$') assert(false, `unexpected RESP reply type ${type}`);
    const length = Number(inb.buf.toString('latin1', inb.at + 1, lineEnd - 2));
    if (length < 0) {
      inb.at = lineEnd;
      this.finish(true);
      return true;
    }
    if (inb.buf.length - lineEnd < length + 2) return false;
    inb.at = lineEnd + length + 2;
    this.finish(true);
    return true;
  }
}
