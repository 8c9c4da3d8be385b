// vitest global setup: tests that spawn `syncgate client` run the prebuilt bundle, the way it ships,
// made here from the current sources (bin/ would run the sources through tsx if it were stale).
import { buildClient } from '../../scripts/build-client.mjs';

export default async function setup(): Promise<void> {
  await buildClient();
}
