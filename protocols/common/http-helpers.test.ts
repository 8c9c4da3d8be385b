import { describe, expect, it } from 'vitest';
import { parseBasicAuth } from './basic-auth.js';
import { parseByteRange } from './range.js';

describe('the byte range every HTTP door reads', () => {
  it('resolves first-last, first- and -suffix to an inclusive range inside the content', () => {
    expect(parseByteRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseByteRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseByteRange('bytes=95-200', 100)).toEqual({ start: 95, end: 99 });
    expect(parseByteRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseByteRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });
  it('answers unsatisfiable past the end and for an empty content, the whole content for anything else', () => {
    expect(parseByteRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=5-2', 100)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=0-', 0)).toBe('unsatisfiable');
    for (const h of [undefined, '', 'bytes=0-1,5-6', 'items=0-1', 'bytes=-', 'bytes=a-b']) expect(parseByteRange(h, 100)).toBeNull();
  });
});

describe('Basic credentials every HTTP door reads', () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  it('splits at the first colon, in UTF-8', () => {
    expect(parseBasicAuth(basic('alice:pa:ss'))).toEqual({ user: 'alice', secret: 'pa:ss' });
    expect(parseBasicAuth(basic('zoë:ünï'))).toEqual({ user: 'zoë', secret: 'ünï' });
    expect(parseBasicAuth(`basic  ${Buffer.from('a:b').toString('base64')}`)).toEqual({ user: 'a', secret: 'b' });
  });
  it('refuses what is not Basic credentials', () => {
    for (const h of [undefined, '', 'Bearer sgt_x', 'Basic', 'Basic !!!', basic('no-colon'), basic(':no-user')]) expect(parseBasicAuth(h)).toBeNull();
  });
});
