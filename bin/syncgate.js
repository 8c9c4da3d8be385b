#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so a checkout needs no build step.
import { register } from 'tsx/esm/api';

register();
const args = process.argv.slice(2);
if (args[0] === 'client') {
  // The companion client ships without the server: load only its own modules (faster start too).
  const { runClient } = await import('../src/client/main.ts');
  process.exitCode = await runClient(args.slice(1));
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(args);
}
