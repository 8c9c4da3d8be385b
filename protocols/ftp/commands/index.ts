import type { CommandSpec } from '../client.js';
import { connectCommands } from './connect.js';
import { fileCommands } from './files.js';
import { sessionCommands } from './session.js';
import { transferCommands } from './transfer.js';

/** Every command the door answers; anything else is 502. */
export const FTP_COMMANDS: Record<string, CommandSpec> = {
  ...sessionCommands,
  ...connectCommands,
  ...transferCommands,
  ...fileCommands,
};
