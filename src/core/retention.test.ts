import { describe, expect, it } from 'vitest';
import type { VersionRow } from '../db/files-repo.js';
import { versionsToPrune } from './retention.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;

function v(version: number, ageMs: number): VersionRow {
  return {
    id: version, rootId: 1, path: 'f', version, seq: version, op: 'write', kind: 'file', deleted: false,
    hash: `h${version}`, size: 1, mtimeMs: 0, userId: 1, userName: 'u', deviceId: null, deviceName: null,
    protocol: 'rest', createdAt: NOW - ageMs, contentGone: false, contentLost: false, fromPath: null, fromVersion: null,
  };
}

describe('versionsToPrune', () => {
  const rows = [v(1, 40 * DAY), v(2, 10 * DAY), v(3, 2 * DAY), v(4, 1000), v(5, 0)];

  it('keeps everything under "all"', () => {
    expect(versionsToPrune({ mode: 'all' }, rows, NOW)).toEqual([]);
  });
  it('keeps the newest N (head included) under "count"', () => {
    expect(versionsToPrune({ mode: 'count', keep: 2 }, rows, NOW).map((r) => r.version)).toEqual([3, 2, 1]);
  });
  it('drops versions older than D days but never the head', () => {
    expect(versionsToPrune({ mode: 'days', days: 5 }, rows, NOW).map((r) => r.version).sort()).toEqual([1, 2]);
    const onlyOld = [v(1, 90 * DAY), v(2, 80 * DAY)];
    expect(versionsToPrune({ mode: 'days', days: 5 }, onlyOld, NOW).map((r) => r.version)).toEqual([1]);
  });
  it('staggers: one version per slot, nothing past maxAge', () => {
    const burst = [v(1, 35 * DAY), v(2, 3 * DAY + 1000), v(3, 3 * DAY), v(4, 10_000), v(5, 5_000), v(6, 0)];
    const pruned = versionsToPrune({ mode: 'staggered', maxAgeDays: 30 }, burst, NOW).map((r) => r.version).sort();
    expect(pruned).toEqual([1, 2, 4]);
  });
  it('ignores tombstones and already pruned versions', () => {
    const rows2 = [{ ...v(1, 0), deleted: true }, { ...v(2, 0), contentGone: true }, v(3, 0)];
    expect(versionsToPrune({ mode: 'count', keep: 1 }, rows2, NOW)).toEqual([]);
  });
  it('neither prunes nor counts a version whose content was lost on disk', () => {
    const rows = [v(1, 0), { ...v(2, 0), contentLost: true }, v(3, 0)];
    expect(versionsToPrune({ mode: 'count', keep: 2 }, rows, NOW)).toEqual([]);
  });
});
