import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Core } from '../../src/core/index.js';
import type { WebdavOptions } from './options.js';

export interface WebdavDoorDeps {
  core: Core;
  options: WebdavOptions;
  log: Logger;
  metrics: Registry;
  /** URL prefix the door is mounted at, e.g. '/dav'. */
  prefix: string;
}

export interface WebdavDoor {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/** Placeholder until the WebDAV door lands: answers 501 so clients get a clear error. */
export function createWebdavDoor(_deps: WebdavDoorDeps): WebdavDoor {
  return {
    handle: (_req, res) => {
      res.statusCode = 501;
      res.end('WebDAV is not available yet\n');
    },
    close: async () => {},
  };
}
