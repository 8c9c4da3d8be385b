import { describe, expect, it } from 'vitest';

describe('mDNS advertisement (pure parts; the network part: test/integration/mdns.test.ts)', () => {
  it('loading the library leaves the process\'s stack traces alone (patches/@homebridge+ciao)', async () => {
    const before = Error.prepareStackTrace;
    await import('@homebridge/ciao');
    expect(Error.prepareStackTrace).toBe(before);
  });

  it('advertises where the HTTP port listens: everywhere for a wildcard, else that address only', async () => {
    const { advertisedAddresses } = await import('./mdns.js');
    expect(advertisedAddresses('0.0.0.0')).toBeUndefined();
    expect(advertisedAddresses('::')).toBeUndefined();
    expect(advertisedAddresses('127.0.0.1')).toEqual(['127.0.0.1']);
    expect(advertisedAddresses('localhost')).toEqual(['127.0.0.1']);
    expect(advertisedAddresses('192.168.1.10')).toEqual(['192.168.1.10']);
  });

  it('TXT: a URL a client can use (never 0.0.0.0), the base path, the version, nothing secret', async () => {
    const { txtRecord } = await import('./mdns.js');
    const local = txtRecord({ host: '127.0.0.1', port: 8080, scheme: 'http', publicUrl: '' });
    expect(local).toMatchObject({ txtvers: '1', scheme: 'http', path: '/', url: 'http://127.0.0.1:8080' });
    expect(local.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(txtRecord({ host: '0.0.0.0', port: 8080, scheme: 'http', publicUrl: '' }).url).toBeUndefined();
    expect(txtRecord({ host: '::1', port: 8443, scheme: 'https', publicUrl: '' }).url).toBe('https://[::1]:8443');
    const proxied = txtRecord({ host: '127.0.0.1', port: 8080, scheme: 'http', publicUrl: 'https://files.example.org/sync/' });
    expect(proxied).toMatchObject({ url: 'https://files.example.org/sync', path: '/sync/' });
    expect(Object.keys(proxied).sort()).toEqual(['path', 'scheme', 'txtvers', 'url', 'version']);
  });
});
