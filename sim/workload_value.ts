// The values simulated clients write. Every write writes bytes no other write
// wrote, and the bytes say which write they are and check themselves, so a
// checker can tell from bytes alone who wrote them (durability), and whether
// they are bytes any client wrote to that key at all (validity):
//
//   value := keyspace "/" key "#p" process "." seq "." crc
//
// seq counts the writes of one client from 1; crc is the CRC-32C of
// everything before the last ".", as 8 lowercase hex digits. Keys and
// keyspace names of the workload never contain "#".

import { assert } from '../io/assert.ts';
import { crc32c } from '../io/crc32c.ts';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export interface WorkloadValue {
  keyspace: string;
  key: string;
  process: number;
  seq: number;
}

function checksum(body: string): string {
  return crc32c(valueBytes(body)).toString(16).padStart(8, '0');
}

export function formatWorkloadValue(v: WorkloadValue): string {
  assert(!v.keyspace.includes('#') && !v.key.includes('#'), `workload key ${v.keyspace}/${v.key} contains '#'`);
  assert(Number.isSafeInteger(v.process) && v.process >= 0 && Number.isSafeInteger(v.seq) && v.seq >= 1, 'workload value: bad process or seq');
  const body = `${v.keyspace}/${v.key}#p${v.process}.${v.seq}`;
  return `${body}.${checksum(body)}`;
}

/** The write a value names, or why these bytes are no workload value (a torn, flipped or invented value). */
export function parseWorkloadValue(text: string): WorkloadValue | string {
  const dot = text.lastIndexOf('.');
  if (dot < 0) return 'no checksum';
  const body = text.slice(0, dot);
  if (text.slice(dot + 1) !== checksum(body)) return 'checksum mismatch';
  const m = /^([^#/]+)\/([^#]*)#p(\d+)\.(\d+)$/.exec(body);
  if (m === null) return 'checksum matches but the layout does not';
  return { keyspace: m[1]!, key: m[2]!, process: Number(m[3]), seq: Number(m[4]) };
}

/** Bytes as the string a checker compares; bytes that are not UTF-8 become a hex string no client wrote. */
export function valueText(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return `<not utf-8: ${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}>`;
  }
}

/** The UTF-8 bytes of `text`; workload keys and values are ASCII, copied here without a call into the encoder. */
export function valueBytes(text: string): Uint8Array {
  const n = text.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return utf8.encode(text);
    out[i] = c;
  }
  return out;
}
