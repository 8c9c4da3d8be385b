/**
 * Test support for the FTP door's own tests (not part of the door): one real gateway per test file,
 * shared by its tests, and the raw control connections they open, all closed once the file is done.
 */
import { afterAll, beforeAll } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import type { RawFtp } from './raw-ftp.test-support.js';

/**
 * Registers beforeAll/afterAll in the calling file or describe block: a gateway (with `overrides` of the
 * test config) for its tests. `t` reads through to the gateway started in beforeAll (use it inside tests
 * and hooks); push every RawFtp a test opens to `clients`, closed before the gateway.
 */
export function useFtpTestGateway(overrides: Parameters<typeof startTestGateway>[0] = {}): { t: TestGateway; clients: RawFtp[] } {
  let started: TestGateway | undefined;
  const clients: RawFtp[] = [];
  beforeAll(async () => {
    started = await startTestGateway(overrides);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await started?.close();
  });
  const gateway = (): TestGateway => {
    if (!started) throw new Error('the gateway starts in beforeAll: use it inside tests and hooks');
    return started;
  };
  // Every field of `t` is read from the gateway when a test reads it: the gateway does not exist yet when the file registers its tests.
  const t = new Proxy({} as TestGateway, { get: (_, field) => Reflect.get(gateway(), field) });
  return { t, clients };
}
