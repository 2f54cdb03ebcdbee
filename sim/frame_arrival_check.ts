// Every frame the simulated network delivers must be exactly one frame of the
// real codec (io/frame_codec.ts): its length field spans the bytes, its
// checksum holds, and its payload is exactly one well-formed msgpack value.
// One that is not was built or carried wrong: a codec bug, which must crash
// the run with the seed rather than reach a node. The payload is walked, not
// decoded (msgpack_shape.ts), so the receiving node's decode is the frame's
// only one; a payload well-formed as msgpack but not a message the node
// knows is the node's to refuse (it counts it as garbage).

import { AssertionError } from '../io/assert.ts';
import { crc32c, unmaskCrc } from '../io/crc32c.ts';
import { FRAME_HEADER_BYTES, FRAME_MAX_PAYLOAD_BYTES } from '../io/frame_codec.ts';
import { msgpackValueEnd } from './msgpack_shape.ts';

/** A frame that fails the check in flight: the codec (or the network) has a bug. */
export class FrameInFlightError extends AssertionError {
  override name = 'FrameInFlightError';
}

/** Throws FrameInFlightError unless `bytes` are exactly one well-formed frame; `name()` names the frame in the message (built only on failure). */
export function checkFrameInFlight(bytes: Uint8Array, name: () => string): void {
  const problem = frameProblem(bytes);
  if (problem !== null) throw new FrameInFlightError(`codec bug: ${name()} ${problem}`);
}

function frameProblem(bytes: Uint8Array): string | null {
  if (bytes.length < FRAME_HEADER_BYTES) return 'is a truncated frame';
  const length = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  if (length > FRAME_MAX_PAYLOAD_BYTES) return `does not decode: FrameError: frame length ${length} exceeds ${FRAME_MAX_PAYLOAD_BYTES}`;
  const end = FRAME_HEADER_BYTES + length;
  if (bytes.length < end) return 'is a truncated frame';
  const masked = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  if (crc32c(bytes, FRAME_HEADER_BYTES, end) !== unmaskCrc(masked)) return 'does not decode: FrameError: frame checksum mismatch';
  const valueEnd = msgpackValueEnd(bytes, FRAME_HEADER_BYTES, end);
  if (valueEnd !== end) return `does not decode: FrameError: payload is not exactly one msgpack value`;
  if (bytes.length > end) return `has ${bytes.length - end} B after its frame`;
  return null;
}
