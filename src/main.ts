import './app/engine-flags.js';
import { runServer } from './app/run.js';

const configFile = process.argv.includes('--config') ? process.argv[process.argv.indexOf('--config') + 1] : undefined;
runServer({ configFile }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`syncgate: could not start: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
