#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so a checkout needs no build step.
const args = process.argv.slice(2);
if (args[0] === 'client') {
  // The companion client ships without the server: load only its own modules, prebuilt when the
  // bundle is current (faster start), else from the sources.
  const { runClientCommand } = await import('./client-bundle.js');
  process.exitCode = await runClientCommand(args.slice(1));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(args);
}
