import { describe, expect, it } from 'vitest';
import { isForeignOrigin, isOwnHost } from './own-host.js';

describe('own host', () => {
  it('knows this gateway by the request Host or the public URL, whatever the scheme and default port', () => {
    expect(isOwnHost('http://127.0.0.1:8080/dav/x', '127.0.0.1:8080')).toBe(true);
    expect(isOwnHost('https://Files.Example.org/dav/x', 'internal:8080', 'https://files.example.org')).toBe(true);
    expect(isOwnHost('http://example.org/x', 'example.org:80')).toBe(true);
    expect(isOwnHost('https://example.org/x', 'example.org:443')).toBe(true);
    expect(isOwnHost('http://example.org:8080/x', 'example.org')).toBe(false);
    expect(isOwnHost('http://evil.example/dav/x', '127.0.0.1:8080', 'https://files.example.org')).toBe(false);
    expect(isOwnHost('ftp://127.0.0.1:8080/dav/x', '127.0.0.1:8080')).toBe(false);
    expect(isOwnHost('/dav/x', '127.0.0.1:8080')).toBe(false);
  });

  it('treats no Origin as a same-site request and an opaque or odd one as foreign', () => {
    expect(isForeignOrigin(undefined, 'h:1')).toBe(false);
    expect(isForeignOrigin('http://h:1', 'h:1')).toBe(false);
    expect(isForeignOrigin('null', 'h:1')).toBe(true);
    expect(isForeignOrigin('', 'h:1')).toBe(true);
    expect(isForeignOrigin('http://h:2', 'h:1')).toBe(true);
    expect(isForeignOrigin('http://h:1', undefined)).toBe(true);
  });
});
