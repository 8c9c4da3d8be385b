import { describe, expect, it } from 'vitest';
import { isWithin, normalizeRelPath, splitExtension, UnsafePathError } from './paths.js';

describe('normalizeRelPath', () => {
  it('normalises slashes and Unicode to NFC', () => {
    expect(normalizeRelPath('/a//'.replace('//', '/'))).toBe('a');
    expect(normalizeRelPath('')).toBe('');
    expect(normalizeRelPath('/')).toBe('');
    expect(normalizeRelPath('Cafe\u0301/x')).toBe('Caf\u00e9/x');
  });

  it.each(['..', 'a/..', '../b', 'a/./b', '%2e%2e/x', '%2E./x', 'a%2fb', 'a\\b', 'a\u0000b', 'a//b', 'a\u0007b', 'x/%00'])('refuses %j', (p) => {
    expect(() => normalizeRelPath(p)).toThrow(UnsafePathError);
  });

  it('refuses over-long segments', () => {
    expect(() => normalizeRelPath('a'.repeat(256))).toThrow(UnsafePathError);
  });
});

describe('path helpers', () => {
  it('isWithin tells descendants from prefixes', () => {
    expect(isWithin('a/b', 'a')).toBe(true);
    expect(isWithin('ab', 'a')).toBe(false);
    expect(isWithin('a', '')).toBe(true);
  });
  it('splitExtension keeps dot-files whole', () => {
    expect(splitExtension('a.tar.gz')).toEqual(['a.tar', '.gz']);
    expect(splitExtension('.bashrc')).toEqual(['.bashrc', '']);
  });
});
