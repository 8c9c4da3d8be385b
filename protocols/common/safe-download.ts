/**
 * How every door hands out user content (WebDAV GET/HEAD, REST downloads, share links): never as a
 * live page of the gateway's origin. Uploaded HTML, SVG or JavaScript opened in a browser would
 * otherwise run with the rights of whoever opens it (issue 22: an anonymous drop-link upload
 * opened under /dav/ created an admin token).
 *
 * Three layers, each enough on its own in current browsers:
 * - `Content-Security-Policy: sandbox; default-src 'none'`: even if rendered, the document gets an
 *   opaque origin (no cookies, no same-origin requests) and may run no script or load anything;
 * - `X-Content-Type-Options: nosniff`: a browser never guesses a more active type than we send;
 * - `Content-Disposition: attachment` for every type not on a short inline-safe list, so the
 *   browser saves the file instead of rendering it.
 */
import { create as createDisposition } from 'content-disposition';

export const SANDBOX_CSP = "sandbox; default-src 'none'";

/**
 * Types a browser shows without running anything: plain text, raster images, audio and video.
 * Not here (so always attachments): HTML, SVG (scriptable), XML and XHTML, JavaScript, CSS, JSON,
 * PDF (viewers run document scripts, and Chromium's viewer refuses sandboxed documents anyway),
 * office documents, and anything unknown.
 */
const INLINE_SAFE = /^(text\/plain|image\/(png|jpeg|gif|webp|avif|bmp|x-icon)|audio\/[\w.+-]+|video\/[\w.+-]+)$/;

/** True when `type` (parameters such as charset allowed) may be shown inline. */
export function isInlineSafe(type: string): boolean {
  return INLINE_SAFE.test(type.split(';')[0]!.trim().toLowerCase());
}

/** HTTP token characters (RFC 9110 5.6.2) but '%': a name the package writes bare, with no filename*. */
const PLAIN_NAME = /^[!#$&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `attachment` or `inline`, with the UTF-8 name (RFC 6266 / 8187) and an ASCII fallback; built by
 * the `content-disposition` package (the one Express and koa use).
 */
export function contentDisposition(name: string, type: 'attachment' | 'inline' = 'attachment'): string {
  // What the package writes for such a name, without its parse and format of a header object
  // (about a tenth of a cold download's time before its first byte); its test compares the two.
  if (PLAIN_NAME.test(name)) return `${type}; filename=${name}`;
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'download';
  return createDisposition(name || 'download', { type, fallback });
}

export interface SafeDownloadOptions {
  /** The file's real type; without one the content goes out as application/octet-stream. */
  contentType?: string;
  /** Ask for inline display; granted only for inline-safe types. */
  inline?: boolean;
}

/**
 * The headers of a download of user content named `name`: Content-Type, Content-Disposition,
 * Content-Security-Policy and X-Content-Type-Options. Set them all (koa: `ctx.set(headers)`;
 * node:http: `setHeader` each).
 */
export function safeDownloadHeaders(name: string, opts: SafeDownloadOptions = {}): Record<string, string> {
  const type = opts.contentType ?? 'application/octet-stream';
  const inline = opts.inline === true && isInlineSafe(type);
  return {
    'Content-Type': type,
    'Content-Disposition': contentDisposition(name, inline ? 'inline' : 'attachment'),
    'Content-Security-Policy': SANDBOX_CSP,
    'X-Content-Type-Options': 'nosniff',
  };
}
