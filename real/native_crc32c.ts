// Binds io/crc32c.ts to @node-rs/crc32's native CRC-32C (hardware CRC
// instructions), where its prebuilt binary loads. Imported for its effect by
// the CLI entry (every command, the simulator's included: the results are
// the same, only faster) and by the test setup. RINGKV_CRC32C=js keeps the
// JavaScript tables, to compare the two.

import { createRequire } from 'node:module';
import { type NativeCrc32c, installNativeCrc32c } from '../io/crc32c.ts';

function loadNative(): NativeCrc32c | null {
  if (process.env.RINGKV_CRC32C === 'js') return null;
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc32c };
    return typeof mod.crc32c === 'function' ? mod.crc32c : null;
  } catch {
    return null; // no binary for this platform: the tables serve
  }
}

installNativeCrc32c(loadNative());
