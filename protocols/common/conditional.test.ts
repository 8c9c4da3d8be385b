import { describe, expect, it } from 'vitest';
import { entityTags, evaluatePreconditions, ifMatchBase, rangeApplies, type RequestHeaders, type Validators } from './conditional.js';

const MTIME = Date.parse('Tue, 01 Dec 2026 10:00:00 GMT') + 400; // sub-second part: HTTP dates are whole seconds
const file: Validators = { etag: '"v3-abcdef012345"', mtimeMs: MTIME };
const OLD = '"v2-0123456789ab"';
const at = (deltaSec: number) => new Date(MTIME + deltaSec * 1000).toUTCString();
const read = (h: RequestHeaders, current: Validators | null = file) => evaluatePreconditions(h, current, { read: true }).outcome;
const write = (h: RequestHeaders, current: Validators | null = file) => evaluatePreconditions(h, current, { read: false }).outcome;

describe('preconditions every HTTP door judges the same way (RFC 9110 13.2.2)', () => {
  it('If-Match: strong comparison, * only for an existing target', () => {
    expect(write({ 'if-match': file.etag })).toBe('proceed');
    expect(write({ 'if-match': `${OLD}, ${file.etag}` })).toBe('proceed');
    expect(write({ 'if-match': OLD })).toBe('precondition-failed');
    expect(write({ 'if-match': `W/${file.etag}` })).toBe('precondition-failed'); // weak never matches strongly
    expect(write({ 'if-match': '*' })).toBe('proceed');
    expect(write({ 'if-match': '*' }, null)).toBe('precondition-failed');
    expect(read({ 'if-match': OLD })).toBe('precondition-failed'); // a GET too
  });

  it('If-None-Match: weak comparison; 304 for GET/HEAD, 412 for a write; * means "exists"', () => {
    expect(read({ 'if-none-match': file.etag })).toBe('not-modified');
    expect(read({ 'if-none-match': `W/${file.etag}` })).toBe('not-modified');
    expect(read({ 'if-none-match': OLD })).toBe('proceed');
    expect(write({ 'if-none-match': file.etag })).toBe('precondition-failed');
    expect(write({ 'if-none-match': '*' })).toBe('precondition-failed');
    expect(write({ 'if-none-match': '*' }, null)).toBe('proceed');
  });

  it('dates in whole seconds: If-Modified-Since (GET only), If-Unmodified-Since; invalid dates are ignored', () => {
    expect(read({ 'if-modified-since': at(0) })).toBe('not-modified');
    expect(read({ 'if-modified-since': at(-1) })).toBe('proceed');
    expect(write({ 'if-modified-since': at(0) })).toBe('proceed');
    expect(write({ 'if-unmodified-since': at(0) })).toBe('proceed');
    expect(write({ 'if-unmodified-since': at(-1) })).toBe('precondition-failed');
    expect(write({ 'if-unmodified-since': at(-1) }, null)).toBe('proceed'); // no date to compare with
    expect(read({ 'if-modified-since': 'yesterday-ish' })).toBe('proceed');
    expect(write({ 'if-unmodified-since': 'not a date' })).toBe('proceed');
  });

  it('takes the headers in the RFC order: If-Match over If-Unmodified-Since, If-None-Match over If-Modified-Since', () => {
    // A matching If-Match: If-Unmodified-Since is not evaluated (it would fail).
    expect(write({ 'if-match': file.etag, 'if-unmodified-since': at(-60) })).toBe('proceed');
    // A failing If-Match decides, before an If-None-Match that would give 304.
    expect(read({ 'if-match': OLD, 'if-none-match': file.etag })).toBe('precondition-failed');
    // If-None-Match present: If-Modified-Since is ignored, both ways.
    expect(read({ 'if-none-match': OLD, 'if-modified-since': at(60) })).toBe('proceed');
    expect(read({ 'if-none-match': file.etag, 'if-modified-since': at(-60) })).toBe('not-modified');
    // If-Unmodified-Since fails before If-None-Match is looked at.
    expect(read({ 'if-unmodified-since': at(-60), 'if-none-match': file.etag })).toBe('precondition-failed');
  });

  it('reads entity-tag lists by syntax (a comma inside a tag is not a separator); empty headers are absent', () => {
    expect(entityTags('"a,b", W/"c"')).toEqual(['"a,b"', 'W/"c"']);
    expect(entityTags(' * ')).toBe('*');
    expect(read({ 'if-none-match': '', 'if-match': '  ' })).toBe('proceed');
    expect(read({ 'if-none-match': ['"x"', file.etag] })).toBe('not-modified'); // a repeated header
  });

  it('If-Range: the range applies for the same strong tag or the exact date, not otherwise', () => {
    expect(rangeApplies({}, file)).toBe(true);
    expect(rangeApplies({ 'if-range': file.etag }, file)).toBe(true);
    expect(rangeApplies({ 'if-range': OLD }, file)).toBe(false);
    expect(rangeApplies({ 'if-range': `W/${file.etag}` }, file)).toBe(false);
    expect(rangeApplies({ 'if-range': at(0) }, file)).toBe(true);
    expect(rangeApplies({ 'if-range': at(-1) }, file)).toBe(false);
  });

  it('If-Match on a write that keeps conflicts names one version of this server', () => {
    expect(ifMatchBase({})).toEqual({ kind: 'none' });
    expect(ifMatchBase({ 'if-match': '*' })).toEqual({ kind: 'any' });
    expect(ifMatchBase({ 'if-match': OLD })).toEqual({ kind: 'version', version: 2 });
    expect(ifMatchBase({ 'if-match': `${OLD}, ${file.etag}` })).toEqual({ kind: 'several' });
    expect(ifMatchBase({ 'if-match': '"some-other-server"' })).toEqual({ kind: 'foreign' });
    // Judged as a base, If-Match is left to the core, and still hides If-Unmodified-Since.
    expect(evaluatePreconditions({ 'if-match': OLD, 'if-unmodified-since': at(-60) }, file, { read: false, ifMatchIsBase: true }).outcome).toBe('proceed');
  });
});
