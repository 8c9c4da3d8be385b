import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * What a door on the shared HTTP port looks like to the gateway: it claims the request paths it
 * serves, handles their requests, may take over a connection's upgrade (a WebSocket), and stops.
 * The gateway keeps a list of doors and hands each request to the first that claims it; a door
 * with its own listener (FTP) starts and stops beside them.
 */
export interface Door {
  name: string;
  /** Whether a request path is this door's (the last door in the list may claim everything). */
  owns(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Takes an HTTP upgrade (WebSocket) it owns and returns true; false leaves it to the next door. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
}
