import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWithin, normalizeRelPath, normalizeRelPathFully, splitExtension, underDir, UnsafePathError } from './paths.js';

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

  it('answers the quick way exactly as the full check does', () => {
    // Paths built from the characters that matter to either way: separators, dots, percent signs,
    // backslashes, controls, non-ASCII (NFC), with segment and total lengths around the bounds.
    const alphabet = ['a', 'Z', '0', ' ', '.', '..', '/', '//', '%', '%2e', '%2F', '\\', '\u0000', '\u0007', '\u007f', '~', 'e\u0301', '\u00e9', '-', '_'];
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const outcome = (f: (s: string) => string, s: string) => {
      try {
        return f(s);
      } catch (err) {
        return err instanceof UnsafePathError ? `refused: ${err.message}` : 'other error';
      }
    };
    const samples = ['a'.repeat(255), `${'a'.repeat(255)}/b`, 'a'.repeat(256), `x/${'y'.repeat(256)}`, `${'abcdefgh/'.repeat(455)}abcdefgh`, `${'abcdefgh/'.repeat(456)}x`, '.a', 'a.', '...', 'a/.../b', '.hidden/x'];
    for (let i = 0; i < 20_000; i += 1) samples.push(Array.from({ length: 1 + next(8) }, () => alphabet[next(alphabet.length)]).join(''));
    for (const s of samples) expect(outcome(normalizeRelPath, s), JSON.stringify(s)).toBe(outcome(normalizeRelPathFully, s));
  });
});

describe('underDir', () => {
  it('is path.join for a normal path under a normalised folder', () => {
    for (const [dir, rel] of [['/data/roots/r', 'a/b.txt'], ['/data/roots/r', ''], ['/', 'a'], ['/', ''], ['/x', 'caf\u00e9/%41 b']]) {
      expect(underDir(dir!, rel!)).toBe(path.join(dir!, rel!));
    }
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
