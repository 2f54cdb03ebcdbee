// Test model of the peer message layout documented in messages.ts: builds
// the payload array from a message (or from loose fields, for malformed
// ones) so tests can encode it with msgpackr (io/frame_codec.ts) and compare
// bytes with the codec, or feed the decoder shapes the encoder never writes.

import { encodeFrame, encodeMessage } from '../../io/frame_codec.ts';
import { encodeVersionedValue } from '../versioning/versioned_value.ts';
import { type Message, type MessageType, WIRE_FIELDS } from './messages.ts';

/** The type codes as documented (not read from the codec). */
export const DOCUMENTED_CODES: Record<MessageType, number> = {
  read: 1, read_ok: 2, write: 3, write_ok: 4, fail: 5, scan: 6, scan_ok: 7, forward: 8, forward_reply: 9,
  ping: 10, pong: 11, stream: 12, stream_ok: 13, merkle: 14, merkle_reply: 15,
};

/** The payload array of a well-formed message. */
export function wirePayload(m: Message): unknown[] {
  const fields: Record<string, unknown> = { ...m };
  if (m.t === 'read_ok') fields['value'] = m.value === null ? null : encodeVersionedValue(m.value);
  if (m.t === 'write') fields['value'] = encodeVersionedValue(m.value);
  if (m.t === 'scan_ok' || m.t === 'stream_ok') fields['items'] = m.items.map((i) => [i.key, encodeVersionedValue(i.value)]);
  if (m.t === 'merkle') fields['body'] = encodeMessage(m.body);
  if (m.t === 'merkle_reply') fields['body'] = m.body.map((b) => encodeMessage(b));
  return rawPayload(m.t, m.id, fields);
}

/** A payload from loose fields by name (missing ones nil), version 2 unless given. */
export function rawPayload(t: MessageType, id: unknown, fields: Record<string, unknown>, version: unknown = 2): unknown[] {
  return [version, DOCUMENTED_CODES[t], id, ...WIRE_FIELDS[t].map((f) => (f in fields ? fields[f] : null))];
}

export function rawFrame(t: MessageType, fields: Record<string, unknown>, id: unknown = 1): Uint8Array {
  return encodeFrame(rawPayload(t, id, fields));
}
