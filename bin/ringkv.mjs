#!/usr/bin/env node
// Entry point: runs the TypeScript CLI through tsx so no build step is needed.
import { register } from 'tsx/esm/api';

// A reader that stops early (`ringkv check ... | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

register();
const { main } = await import('../real/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
