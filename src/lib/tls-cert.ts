import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface PemPair {
  cert: string;
  key: string;
  /** True when this call generated it (first start). */
  generated: boolean;
}

/**
 * A TLS certificate for a server: the configured PEM files when given, else a self-signed one
 * generated once and kept in `dir` (so clients that pinned it keep trusting it after a restart).
 */
export async function loadOrCreateCertificate(opts: {
  dir: string;
  certFile?: string;
  keyFile?: string;
  commonName?: string;
  altNames?: string[];
}): Promise<PemPair> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('a TLS certificate needs both a certificate and a key file');
    return { cert: await readFile(opts.certFile, 'utf8'), key: await readFile(opts.keyFile, 'utf8'), generated: false };
  }
  const certPath = path.join(opts.dir, 'tls-cert.pem');
  const keyPath = path.join(opts.dir, 'tls-key.pem');
  try {
    return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8'), generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const cn = opts.commonName ?? 'syncgate';
  const names = new Set(['localhost', ...(opts.altNames ?? [])]);
  const altNames = [...names].map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
  altNames.push({ type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' });
  // Loaded only here: the library takes 120-150 ms of CPU to load, and it is needed once (first start).
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  } as Parameters<typeof generate>[1]);
  await mkdir(opts.dir, { recursive: true });
  // Key first, each written whole then renamed: a crash never leaves a cert without its key.
  await writeFile(`${keyPath}.tmp`, pems.private, { mode: 0o600 });
  await chmod(`${keyPath}.tmp`, 0o600);
  await rename(`${keyPath}.tmp`, keyPath);
  await writeFile(`${certPath}.tmp`, pems.cert);
  await rename(`${certPath}.tmp`, certPath);
  return { cert: pems.cert, key: pems.private, generated: true };
}
