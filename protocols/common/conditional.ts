/**
 * Conditional requests (RFC 9110 §13) for every HTTP door: REST, WebDAV and share links judge
 * If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since and If-Range here, with the
 * precedence of §13.2.2, so a client gets the same answer whichever door it talks to.
 *
 * The `fresh` package (koa's ctx.fresh) covers only the GET half (If-None-Match, If-Modified-Since)
 * and treats a request's Cache-Control: no-cache as "not fresh": the write half (If-Match,
 * If-Unmodified-Since, If-None-Match on a write) and the order between them are what differed
 * between the doors, so the whole of it lives in one place.
 *
 * Entity tags are the core's (src/lib/etag.ts): strong, naming a version.
 */
import { versionOfEtag } from '../../src/lib/etag.js';

/** Request headers as node gives them (koa's ctx.headers is the same object). */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** What preconditions are judged against; null when the target does not exist. */
export interface Validators {
  etag: string;
  mtimeMs: number;
}

export type Verdict =
  | { outcome: 'proceed' }
  /** GET/HEAD only: the client's copy is current (304). */
  | { outcome: 'not-modified' }
  /** 412, with the reason in the client's terms. */
  | { outcome: 'precondition-failed'; reason: string };

/** A header's value, or undefined when absent or empty (koa reports an absent header as ''). */
export function headerOf(headers: RequestHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s === undefined || s.trim() === '' ? undefined : s;
}

/** The entity tags of an If-Match / If-None-Match list, or '*'. Tags may hold commas: read by syntax, not split. */
export function entityTags(header: string): '*' | string[] {
  if (header.trim() === '*') return '*';
  return [...header.matchAll(/(?:W\/)?"[^"]*"/g)].map((m) => m[0]);
}

const opaque = (tag: string) => tag.replace(/^W\//, '');
/** Strong comparison (§8.8.3.2): both strong and the same. If-Match and If-Range use it. */
export const strongMatch = (a: string, b: string) => !a.startsWith('W/') && !b.startsWith('W/') && a === b;
/** Weak comparison: the same opaque tag, weak or not. If-None-Match uses it. */
export const weakMatch = (a: string, b: string) => opaque(a) === opaque(b);

const seconds = (ms: number) => Math.floor(ms / 1000);
/** An HTTP date in whole seconds, or null when it is not one (an invalid date is ignored, §13.1.3). */
function dateOf(header: string | undefined): number | null {
  if (header === undefined) return null;
  const ms = Date.parse(header);
  return Number.isNaN(ms) ? null : seconds(ms);
}

export interface PreconditionOptions {
  /** GET or HEAD: a failed If-None-Match or If-Modified-Since means 304 instead of 412. */
  read: boolean;
  /**
   * If-Match names the version the client edited (REST writes): the core compares it atomically and
   * keeps the client's content as a conflict copy, so it is not judged here. It still decides the
   * precedence: with If-Match present, If-Unmodified-Since is not evaluated.
   */
  ifMatchIsBase?: boolean;
}

/**
 * RFC 9110 §13.2.2, in its order: If-Match, else If-Unmodified-Since; then If-None-Match, else
 * (GET/HEAD) If-Modified-Since. The first that fails decides. If-Range is rangeApplies'.
 */
export function evaluatePreconditions(headers: RequestHeaders, current: Validators | null, opts: PreconditionOptions): Verdict {
  const ifMatch = headerOf(headers, 'if-match');
  if (ifMatch !== undefined) {
    if (!opts.ifMatchIsBase) {
      const tags = entityTags(ifMatch);
      const ok = current !== null && (tags === '*' || tags.some((t) => strongMatch(t, current.etag)));
      if (!ok) return { outcome: 'precondition-failed', reason: current ? 'the file changed (If-Match)' : 'the file does not exist (If-Match)' };
    }
  } else {
    // Ignored without a modification date, i.e. for a target that does not exist (§13.1.4).
    const since = dateOf(headerOf(headers, 'if-unmodified-since'));
    if (since !== null && current && seconds(current.mtimeMs) > since) return { outcome: 'precondition-failed', reason: 'the file was modified since (If-Unmodified-Since)' };
  }
  const ifNoneMatch = headerOf(headers, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    const tags = entityTags(ifNoneMatch);
    const matches = current !== null && (tags === '*' || tags.some((t) => weakMatch(t, current.etag)));
    if (matches) return opts.read ? { outcome: 'not-modified' } : { outcome: 'precondition-failed', reason: 'the file exists (If-None-Match)' };
  } else if (opts.read) {
    const since = dateOf(headerOf(headers, 'if-modified-since'));
    if (since !== null && current && seconds(current.mtimeMs) <= since) return { outcome: 'not-modified' };
  }
  return { outcome: 'proceed' };
}

/** Whether a request carries any precondition: a door may skip looking up the target without one. */
export function hasPreconditions(headers: RequestHeaders): boolean {
  return ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'].some((h) => headerOf(headers, h) !== undefined);
}

/**
 * If-Range (§13.1.5): the Range applies when the validator still names the current content, a
 * strong entity tag or the exact Last-Modified date; otherwise the whole content is sent.
 */
export function rangeApplies(headers: RequestHeaders, current: Validators): boolean {
  const ifRange = headerOf(headers, 'if-range');
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith('W/')) return strongMatch(v, current.etag);
  return dateOf(v) === seconds(current.mtimeMs);
}

export type IfMatchBase =
  | { kind: 'none' }
  /** `If-Match: *`: the file must exist; any version is the base. */
  | { kind: 'any' }
  | { kind: 'version'; version: number }
  /** A list of tags: a write has one base (a bad request). */
  | { kind: 'several' }
  /** A tag this server did not make: it names no version here (the precondition fails). */
  | { kind: 'foreign' };

/**
 * If-Match on a write that keeps conflicts (REST): the one version the client edited. One tag of
 * this server only: a list or a foreign tag cannot name a base.
 */
export function ifMatchBase(headers: RequestHeaders): IfMatchBase {
  const ifMatch = headerOf(headers, 'if-match');
  if (ifMatch === undefined) return { kind: 'none' };
  const tags = entityTags(ifMatch);
  if (tags === '*') return { kind: 'any' };
  if (tags.length > 1) return { kind: 'several' };
  const version = tags.length === 1 ? versionOfEtag(tags[0]!) : null;
  return version === null ? { kind: 'foreign' } : { kind: 'version', version };
}
