#!/usr/bin/env node
// The companion client on its own (`syncgate-client sync --watch` = `syncgate client sync --watch`).
import { register } from 'tsx/esm/api';

register();
const { runClient } = await import('../src/client/main.ts');
process.exitCode = await runClient(process.argv.slice(2));
