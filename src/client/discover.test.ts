import { describe, expect, it } from 'vitest';
import { gatewayUrl } from './discover.js';

const rinfo = (address: string) => ({ address, family: address.includes(':') ? 'IPv6' : 'IPv4', port: 5353, size: 0 }) as const;

describe('the URL `client discover` shows for an answer', () => {
  it('the URL the gateway published, as it is', () => {
    expect(gatewayUrl({ port: 8080, addresses: ['10.0.0.5'], txt: { url: 'https://files.example.org/sync' }, referer: rinfo('10.0.0.5') })).toBe('https://files.example.org/sync');
  });

  it('else the address the answer came from (a gateway on 0.0.0.0 publishes none), with its scheme and path', () => {
    expect(gatewayUrl({ port: 8080, addresses: ['192.168.1.10', '10.0.0.5'], txt: { scheme: 'http', path: '/' }, referer: rinfo('10.0.0.5') })).toBe('http://10.0.0.5:8080');
    expect(gatewayUrl({ port: 8443, addresses: ['fe80::1', '192.168.1.10'], txt: { scheme: 'https', path: '/base/' }, referer: rinfo('192.168.9.9') })).toBe('https://192.168.1.10:8443/base');
    expect(gatewayUrl({ port: 8080, addresses: ['fd00::5'], txt: {}, referer: rinfo('fd00::5') })).toBe('http://[fd00::5]:8080');
  });

  it('no usable URL, no entry; a TXT url that is not http(s) is not trusted', () => {
    expect(gatewayUrl({ port: 8080, addresses: [], txt: {}, referer: undefined as never })).toBeNull();
    expect(gatewayUrl({ port: 8080, addresses: ['10.0.0.5'], txt: { url: 'javascript:alert(1)' }, referer: rinfo('10.0.0.5') })).toBe('http://10.0.0.5:8080');
  });
});
