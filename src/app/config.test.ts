import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, ConfigError, defaultsPath, loadConfig } from './config.js';

const made: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-config-'));
  made.push(dir);
  return dir;
};
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('configuration', () => {
  it('config/default.json lists every setting at its default', () => {
    expect(JSON.parse(readFileSync(defaultsPath(), 'utf8'))).toEqual(configSchema.parse({}));
  });

  it('layers the operator file and SYNCGATE_<SECTION>__<KEY> variables, typed like the defaults', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'op.json');
    await writeFile(file, JSON.stringify({ http: { port: 9000 }, data: { dir: '/srv/a' } }));
    const cfg = loadConfig({
      file,
      env: { SYNCGATE_DATA__DIR: '/srv/b', SYNCGATE_FTP__PASSIVE_PORT_MIN: '31000', SYNCGATE_FTP__PASSIVEPORTMAX: '31010', SYNCGATE_ADMIN__PASSWORD: '12345678', SYNCGATE_WATCHER__ENABLED: 'false' },
    });
    expect(cfg.http.port).toBe(9000);
    expect(cfg.data.dir).toBe('/srv/b');
    expect(cfg.ftp.passivePortMin).toBe(31000);
    expect(cfg.admin.password).toBe('12345678');
    expect(cfg.watcher.enabled).toBe(false);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ env: { SYNCGATE_HTTP__PORT: 'eighty', SYNCGATE_NOPE__X: '1', SYNCGATE_HTTP__COLOUR: 'red', SYNCGATE_FTP__PORT: '70000' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/SYNCGATE_HTTP__PORT/);
      expect(problems).toMatch(/unknown section/);
      expect(problems).toMatch(/unknown setting "COLOUR"/);
      expect(problems).toMatch(/ftp\.port/);
    }
  });

  it('refuses a missing or malformed operator file', async () => {
    const dir = await tempDir();
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{ not json');
    expect(() => loadConfig({ file: bad, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ file: path.join(dir, 'missing.json'), env: {} })).toThrow(/no such configuration file/);
  });

  it('refuses a setting of the operator file it does not know, naming the one meant when only its spelling differs', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'op.json');
    // Each was taken before and ignored: FTP stayed open without TLS, WebDAV stayed on, the ban stayed at 10.
    await writeFile(file, JSON.stringify({ ftp: { requireTLS: true }, webdav: { enable: false }, security: { banAftr: 3 }, http: { port: 9000 } }));
    try {
      loadConfig({ file, env: {} });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).toContain(`${file}: unknown setting "ftp.requireTLS" (did you mean "requireTls"?)`);
      expect(problems.join('\n')).toContain(`${file}: unknown setting "webdav.enable"`);
      expect(problems.join('\n')).toContain(`${file}: unknown setting "security.banAftr"`);
    }
  });

  it('reads a number from the environment only as plain decimal digits', () => {
    // Number() read '1e3' as 1000, '0x1F90' as 8080 and ' 8080' as 8080: a typo became another port.
    for (const value of ['1e3', '0x1F90', ' 8080', '8080 ', '+8080', 'Infinity']) {
      expect(() => loadConfig({ env: { SYNCGATE_HTTP__PORT: value } }), value).toThrow(ConfigError);
    }
    expect(loadConfig({ env: { SYNCGATE_HTTP__PORT: '8081' } }).http.port).toBe(8081);
    expect(loadConfig({ env: { SYNCGATE_HTTP__PORT: '08082' } }).http.port).toBe(8082);
  });

  it('sets from the environment a number whose default is none (http.metricsPort)', () => {
    // Its default is null, so the value stayed a string and the schema refused it: no way to set it there.
    expect(loadConfig({ env: { SYNCGATE_HTTP__METRICS_PORT: '9100' } }).http.metricsPort).toBe(9100);
    expect(loadConfig({ env: { SYNCGATE_HTTP__METRICS_PORT: '' } }).http.metricsPort).toBe(null);
    expect(() => loadConfig({ env: { SYNCGATE_HTTP__METRICS_PORT: 'ninety' } })).toThrow(ConfigError);
  });
});
