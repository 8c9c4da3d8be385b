#!/usr/bin/env node
// The companion client on its own (`syncgate-client sync --watch` = `syncgate client sync --watch`).
import { runClientCommand } from './client-bundle.js';

process.exitCode = await runClientCommand(process.argv.slice(2));
