import { writeFileSync } from 'node:fs';
import { configSchema, defaultsPath } from './config.js';

/** Regenerates config/default.json from the schema (npm run config:defaults). */
writeFileSync(defaultsPath(), `${JSON.stringify(configSchema.parse({}), null, 2)}\n`);
