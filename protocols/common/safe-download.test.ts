import { create as packageDisposition } from 'content-disposition';
import { describe, expect, it } from 'vitest';
import { contentDisposition, isInlineSafe, safeDownloadHeaders } from './safe-download.js';

describe('safe download headers', () => {
  it('shows inline only plain text, raster images, audio and video', () => {
    for (const t of ['text/plain; charset=utf-8', 'image/png', 'image/jpeg', 'audio/mpeg', 'video/mp4', 'IMAGE/GIF']) expect(isInlineSafe(t), t).toBe(true);
    for (const t of ['text/html; charset=utf-8', 'image/svg+xml', 'application/xml', 'text/xml', 'application/xhtml+xml', 'text/javascript', 'text/css', 'application/json', 'application/pdf', 'text/markdown', 'application/octet-stream', '', 'text/plain+html']) {
      expect(isInlineSafe(t), t).toBe(false);
    }
  });

  it('asks for inline only where it is safe; always sandboxed and nosniff', () => {
    expect(safeDownloadHeaders('a.svg', { contentType: 'image/svg+xml', inline: true })).toEqual({
      'Content-Type': 'image/svg+xml',
      'Content-Disposition': 'attachment; filename=a.svg',
      'Content-Security-Policy': "sandbox; default-src 'none'",
      'X-Content-Type-Options': 'nosniff',
    });
    expect(safeDownloadHeaders('a.png', { contentType: 'image/png', inline: true })['Content-Disposition']).toBe('inline; filename=a.png');
    expect(safeDownloadHeaders('a.png')['Content-Type']).toBe('application/octet-stream');
  });

  it('names files safely: quotes, backslashes, CR/LF and non-ASCII never break the header', () => {
    const d = contentDisposition('ré"sumé\\\r\n.html');
    expect(d).not.toMatch(/[\r\n]/);
    expect(d).toMatch(/^attachment; filename=r__sum____\.html; filename\*=/);
    expect(d).toContain("filename*=UTF-8''r%C3%A9%22sum%C3%A9%5C%0D%0A.html");
    expect(contentDisposition('')).toBe('attachment; filename=download');
  });

  it('writes every name as the content-disposition package does (plain names take a quicker way)', () => {
    const names = ['big-0.bin', 'report.final.PDF', "it's~ok_#1!.txt", 'a^b`c|d+e&f$g*h.txt', '-', '.hidden', 'x'.repeat(255)];
    // Each printable ASCII character and a few others, alone, inside and at either end of a name.
    for (let c = 0; c < 0x80; c += 1) names.push(String.fromCharCode(c), `a${String.fromCharCode(c)}b.txt`, `${String.fromCharCode(c)}z`, `z${String.fromCharCode(c)}`);
    names.push('é.txt', 'ünïcödé', '日本.txt', 'emoji-😀.png', 'a\u00a0b');
    for (const name of names) {
      for (const type of ['attachment', 'inline'] as const) {
        const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'download';
        expect(contentDisposition(name, type), JSON.stringify(name)).toBe(packageDisposition(name || 'download', { type, fallback }));
      }
    }
  });
});
