// Frames: the unit the network carries and some files store.
//
//   frame := length:u32le crc32c(masked):u32le payload[length]
//   payload := msgpackr encoding of one message object
//
// The same codec runs in the simulator and over TCP, so a codec bug shows in
// simulation. Decoding never trusts its input: a short, oversized or corrupt
// frame is a FrameError, never a thrown TypeError or a wrong message.

import { Packr, Unpackr } from 'msgpackr';
import { crc32c, maskCrc, unmaskCrc } from './crc32c.ts';

export const FRAME_HEADER_BYTES = 8;
/** Largest payload accepted: a 10 MiB value plus generous room for its envelope. */
export const FRAME_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export class FrameError extends Error {
  override name = 'FrameError';
}

// Records off: plain maps keep the encoding independent of encoder history
// (a record-structure cache would make bytes depend on what was sent before).
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false });

export function encodeMessage(message: unknown): Uint8Array {
  return packr.pack(message);
}

export function decodeMessage(payload: Uint8Array): unknown {
  try {
    return unpackr.unpack(payload);
  } catch (err) {
    throw new FrameError(`undecodable payload: ${(err as Error).message}`);
  }
}

export function encodeFrame(message: unknown): Uint8Array {
  const payload = encodeMessage(message);
  if (payload.length > FRAME_MAX_PAYLOAD_BYTES) throw new FrameError(`frame payload ${payload.length} B exceeds ${FRAME_MAX_PAYLOAD_BYTES} B`);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, maskCrc(crc32c(payload)), true);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Reads the frame at the start of `bytes`. Returns null when more bytes are
 * needed, else the message and how many bytes it used.
 */
export function decodeFrame(bytes: Uint8Array): { message: unknown; used: number } | null {
  if (bytes.length < FRAME_HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  if (length > FRAME_MAX_PAYLOAD_BYTES) throw new FrameError(`frame length ${length} exceeds ${FRAME_MAX_PAYLOAD_BYTES}`);
  if (bytes.length < FRAME_HEADER_BYTES + length) return null;
  const payload = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
  const expected = unmaskCrc(view.getUint32(4, true));
  if (crc32c(payload) !== expected) throw new FrameError('frame checksum mismatch');
  return { message: decodeMessage(payload), used: FRAME_HEADER_BYTES + length };
}
