// Which protocol a frame on a node's network belongs to, without decoding it:
// request/reply between store nodes (messages.ts) or gossip
// (membership/gossip_messages.ts) share env.net.
//
// A gossip payload is a msgpack map written with its tag first,
// { p: 'gossip', ... }; a peer message is a msgpack array (messages.ts), so
// the map header and the first key decide (the encoder writes a fixmap, a map16
// or a map32 header; the key is the one-letter fixstr 'p'):
//
//   gossip := (0x80..0x8f | 0xde len:u16 | 0xdf len:u32)  0xa1  0x70
//   rpc    := anything else
//
// Peeking costs nothing on the request path. A frame sniffed wrongly is
// garbage either way: the decoder it reaches rejects it (and counts it).

import { FRAME_HEADER_BYTES } from '../../io/frame_codec.ts';

export type FrameProtocol = 'gossip' | 'rpc';

const FIXMAP_LOW = 0x80;
const FIXMAP_HIGH = 0x8f;
const MAP16 = 0xde;
const MAP32 = 0xdf;
const FIXSTR_1 = 0xa1;
const LETTER_P = 0x70;

export function frameProtocol(frame: Uint8Array): FrameProtocol {
  const i = FRAME_HEADER_BYTES;
  if (frame.length <= i) return 'rpc';
  const head = frame[i]!;
  const key = head >= FIXMAP_LOW && head <= FIXMAP_HIGH ? i + 1 : head === MAP16 ? i + 3 : head === MAP32 ? i + 5 : -1;
  return key !== -1 && frame.length >= key + 2 && frame[key] === FIXSTR_1 && frame[key + 1] === LETTER_P ? 'gossip' : 'rpc';
}
