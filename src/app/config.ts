import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ftpOptions } from '../../protocols/ftp/options.js';
import { httpOptions } from '../../protocols/http/options.js';
import { syncOptions } from '../../protocols/sync/options.js';
import { webdavOptions } from '../../protocols/webdav/options.js';

/** The whole configuration: one section per part, each with its defaults. */
export const configSchema = z.object({
  data: z.object({
    /** Holds the database (syncgate.db), blobs/, tmp/, uploads/ and the default root. */
    dir: z.string().default('./data'),
  }).prefault({}),
  admin: z.object({
    /** First admin's password; generated and printed once at first start when empty. */
    password: z.string().default(''),
  }).prefault({}),
  roots: z.object({
    /** Name of the root created at first start. */
    defaultName: z.string().default('default'),
    /** Its folder; `<data.dir>/roots/<name>` when empty. */
    defaultDir: z.string().default(''),
    /**
     * Folders inside which the API may make roots (an admin's POST /api/v1/roots); empty: only
     * inside the data folder. The CLI (`syncgate root add`, the operator) is not bound by it.
     */
    allowedParents: z.array(z.string()).default([]),
  }).prefault({}),
  security: z.object({
    /** Argon2id cost for passwords. */
    kdfMemoryKiB: z.number().int().min(8).default(19456),
    kdfIterations: z.number().int().min(1).default(2),
    /**
     * Failed logins of one name from one address before its answers slow down; failed logins from
     * one address (any names, tokens, link passwords) within windowSec that ban the address from
     * every door for banSec. Nothing is counted per name alone (see core/guard.ts).
     */
    freeAttempts: z.number().int().min(0).default(3),
    banAfter: z.number().int().min(1).default(10),
    windowSec: z.number().int().positive().default(900),
    banSec: z.number().int().positive().default(900),
    maxDelayMs: z.number().int().min(0).default(4000),
  }).prefault({}),
  storage: z.object({
    /** File names never stored or listed. */
    ignoredNames: z.array(z.string()).default([]),
  }).prefault({}),
  shares: z.object({
    /**
     * Anonymous drop links: the largest file a visitor may drop (bytes; http.maxUploadBytes applies
     * too), how many files a link takes when its creator set no limit (0 = unlimited), and how many
     * may be under way at once through one link.
     */
    dropMaxFileBytes: z.number().int().min(0).default(512 * 1024 * 1024),
    dropMaxFiles: z.number().int().min(0).default(100),
    dropMaxOpenUploads: z.number().int().min(1).default(4),
  }).prefault({}),
  watcher: z.object({
    enabled: z.boolean().default(true),
    /**
     * Below this many entries in a root, chokidar watches every file; from it on (0, the default: at
     * every size), one inotify watch per folder, which reports its files by name. chokidar re-reads a
     * folder at each event in it: with 2,000-4,000 files a small PUT cost 10 ms of CPU instead of 1.5,
     * and 50k files 500 MB. Kept only for platforms without a folder watch that names its files.
     */
    maxWatchedFiles: z.number().int().min(0).default(0),
  }).prefault({}),
  mdns: z.object({
    /**
     * Advertise `_syncgate._tcp` over mDNS for `syncgate client discover`: on the interfaces where
     * http.host listens (loopback only for 127.0.0.1, every one for 0.0.0.0; see src/app/mdns.ts).
     */
    enabled: z.boolean().default(true),
    /** The name clients see; "syncgate on <hostname>" when empty. */
    name: z.string().default(''),
  }).prefault({}),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).prefault({}),
  http: httpOptions.prefault({}),
  webdav: webdavOptions.prefault({}),
  ftp: ftpOptions.prefault({}),
  sync: syncOptions.prefault({}),
});

export type AppConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects (arrays and values are replaced): how config layers combine. */
export function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as Json, v) : v;
  return out;
}

/** Finds a key case- and underscore-insensitively: PASSIVE_PORT_MIN -> passivePortMin. */
function matchKey(obj: Json, raw: string): string {
  const want = raw.replace(/_/g, '').toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === want) ?? raw.toLowerCase();
}

/**
 * Keys of an operator file that no setting has, as problems: a misspelt key was taken and ignored,
 * so `"requireTLS": true` left FTP open without TLS and `"enable": false` left WebDAV on, with
 * nothing said. Unknown sections are the schema's own (strict) problem; this looks one level down,
 * where the schema strips what it does not know.
 */
function unknownKeys(file: string, layer: Json, defaults: Json, problems: string[], at: string[] = []): void {
  for (const [k, v] of Object.entries(layer)) {
    if (!(k in defaults)) {
      if (at.length === 0) continue;
      const meant = matchKey(defaults, k);
      const hint = meant in defaults ? ` (did you mean "${meant}"?)` : '';
      problems.push(`${file}: unknown setting "${[...at, k].join('.')}"${hint}`);
    } else if (isObject(v) && isObject(defaults[k])) unknownKeys(file, v, defaults[k] as Json, problems, [...at, k]);
  }
}

/** Environment values take the type of the default they replace. */
function typed(value: string, like: unknown, name: string, problems: string[]): unknown {
  if (typeof like === 'number') {
    // Plain decimal only, as the doors read numbers (protocols/common/decimal.ts): Number() took
    // '1e3' as 1000, '0x1F90' as 8080 and ' 8080' as 8080.
    if (!/^-?\d+(\.\d+)?$/.test(value)) problems.push(`${name}: "${value}" is not a number (decimal digits)`);
    return Number(value);
  }
  if (typeof like === 'boolean') {
    if (!/^(true|false|1|0|yes|no)$/i.test(value)) problems.push(`${name}: "${value}" is not true or false`);
    return /^(true|1|yes)$/i.test(value);
  }
  if (Array.isArray(like)) return value === '' ? [] : value.split(',').map((s) => s.trim());
  // A setting off by default (null: http.metricsPort) takes a number, or stays off when empty.
  if (like === null) return value === '' || value === 'null' ? null : /^-?\d+$/.test(value) ? Number(value) : value;
  return value;
}

export function defaultsPath(): string {
  return fileURLToPath(new URL('../../config/default.json', import.meta.url));
}

/**
 * Loads config/default.json, then the operator's file, then SYNCGATE_<SECTION>__<KEY>
 * variables; validates once and reports every problem together.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): AppConfig {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const readJson = (file: string): Json => {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!isObject(parsed)) throw new Error('not a JSON object');
      return parsed;
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
      return {};
    }
  };
  let raw: Json = existsSync(defaultsPath()) ? readJson(defaultsPath()) : {};
  const defaults = configSchema.parse({}) as unknown as Json;
  const file = opts.file ?? env.SYNCGATE_CONFIG;
  if (file) {
    if (!existsSync(file)) problems.push(`${file}: no such configuration file`);
    else {
      const layer = readJson(file);
      unknownKeys(file, layer, defaults, problems);
      raw = merge(raw, layer);
    }
  }
  for (const [name, value] of Object.entries(env)) {
    const m = /^SYNCGATE_([A-Z0-9]+)__([A-Z0-9_]+(?:__[A-Z0-9_]+)*)$/i.exec(name);
    if (!m || value === undefined) continue;
    const section = matchKey(defaults, m[1]!);
    if (!isObject(defaults[section])) {
      problems.push(`${name}: unknown section "${m[1]}"`);
      continue;
    }
    const key = matchKey(defaults[section] as Json, m[2]!);
    if (!(key in (defaults[section] as Json))) {
      problems.push(`${name}: unknown setting "${m[2]}" in section "${section}"`);
      continue;
    }
    raw = merge(raw, { [section]: { [key]: typed(value, (defaults[section] as Json)[key], name, problems) } });
  }
  const result = configSchema.strict().safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const cfg = result.data;
  if (cfg.ftp.passivePortMin > cfg.ftp.passivePortMax) throw new ConfigError(['ftp.passivePortMin is above ftp.passivePortMax']);
  if (Boolean(cfg.http.tlsCert) !== Boolean(cfg.http.tlsKey)) throw new ConfigError(['http.tlsCert and http.tlsKey must be set together']);
  return cfg;
}
