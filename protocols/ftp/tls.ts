import type { Socket } from 'node:net';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import { loadOrCreateCertificate } from '../../src/lib/tls-cert.js';
import type { FtpOptions } from './options.js';

export interface FtpTls {
  context: SecureContext;
  /** For tls.createServer (implicit FTPS). */
  options: tls.TlsOptions;
}

/** The certificate from the configuration, or a self-signed one kept in the data folder. */
export async function loadFtpTls(options: FtpOptions, dataDir: string): Promise<FtpTls | null> {
  if (options.tls === 'off' && options.implicitTlsPort === 0) return null;
  const pem = await loadOrCreateCertificate({ dir: dataDir, certFile: options.tlsCert || undefined, keyFile: options.tlsKey || undefined });
  const tlsOptions: tls.TlsOptions = { cert: pem.cert, key: pem.key, minVersion: 'TLSv1.2' };
  return { context: tls.createSecureContext(tlsOptions), options: tlsOptions };
}

/**
 * AUTH TLS. ftp-srv wrote the 234 reply and wrapped the socket only in the write callback, so a
 * ClientHello arriving in between was read as a command (5 of 8 curl sessions failed). Here the
 * 234 is handed to the kernel and the socket is wrapped in the same tick, before any read callback
 * can run: the client cannot send its ClientHello before it has the 234, and from the moment it
 * can, the TLS layer owns the socket.
 */
export function upgradeControlSocket(plain: Socket, context: SecureContext, reply: string): TLSSocket {
  plain.write(reply);
  return new tls.TLSSocket(plain, { isServer: true, secureContext: context });
}
