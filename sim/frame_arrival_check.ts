// Every frame the simulated network delivers must be exactly one frame of the
// real codec (io/frame_codec.ts). One that is not was built or carried wrong:
// a codec bug, which must crash the run with the seed rather than reach a node.

import { AssertionError } from '../io/assert.ts';
import { decodeFrame } from '../io/frame_codec.ts';

/** A frame that fails to decode in flight: the codec (or the network) has a bug. */
export class FrameInFlightError extends AssertionError {
  override name = 'FrameInFlightError';
}

/** Throws FrameInFlightError unless `bytes` decode as exactly one frame; `name()` names the frame in the message (built only on failure). */
export function checkFrameInFlight(bytes: Uint8Array, name: () => string): void {
  let decoded: ReturnType<typeof decodeFrame>;
  try {
    decoded = decodeFrame(bytes);
  } catch (err) {
    throw new FrameInFlightError(`codec bug: ${name()} does not decode: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  }
  if (decoded === null) throw new FrameInFlightError(`codec bug: ${name()} is a truncated frame`);
  if (decoded.used !== bytes.length) throw new FrameInFlightError(`codec bug: ${name()} has ${bytes.length - decoded.used} B after its frame`);
}
