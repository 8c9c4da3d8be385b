import { ConfigError, loadConfig } from './config.js';
import { startGateway } from './gateway.js';

/** Starts the gateway in the foreground and stops it cleanly on SIGINT/SIGTERM. */
export async function runServer(opts: { configFile?: string } = {}): Promise<number> {
  let config;
  try {
    config = loadConfig({ file: opts.configFile });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`syncgate: ${err.message}\nFix these settings (config file or SYNCGATE_<SECTION>__<KEY> variables) and start again.\n`);
      return 2;
    }
    throw err;
  }
  // Listen for signals before announcing anything, so a Ctrl-C right after start still stops cleanly.
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const gateway = await startGateway(config);
  if (gateway.generatedAdminPassword) {
    process.stdout.write(
      `\n  First start: created user "admin" with password\n\n      ${gateway.generatedAdminPassword}\n\n` +
        `  It is shown only this once; change it later with: syncgate user passwd admin\n\n`,
    );
  }
  process.stdout.write(`  syncgate is running: ${gateway.url}  (WebDAV ${gateway.url}/dav/${gateway.ftp ? `, FTP ftp://${gateway.ftp.address.host}:${gateway.ftp.address.port}` : ''})\n  data: ${gateway.dataDir}\n  Press Ctrl-C to stop.\n`);
  gateway.log.info({ signal: await stopped }, 'stopping');
  await gateway.close();
  gateway.log.info('stopped');
  return 0;
}
