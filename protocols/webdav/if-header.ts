import { weakMatch } from '../common/conditional.js';
import { DavError } from './errors.js';

/** One condition of an If: list (RFC 4918 section 10.4): a state token or an entity tag, maybe negated. */
export interface IfCondition {
  not: boolean;
  token?: string;
  etag?: string;
}

export interface IfList {
  /** The tagged resource (a URL as the client wrote it), or null for the request URI. */
  resource: string | null;
  conditions: IfCondition[];
}

/**
 * Parses the If header. Malformed input is a 400, never an exception that escapes (webdav-server
 * 2.6.3 crashed the process on any untagged list).
 */
export function parseIfHeader(header: string): IfList[] {
  const lists: IfList[] = [];
  let i = 0;
  let resource: string | null = null;
  let tagged: boolean | null = null;
  const bad = (): never => {
    throw new DavError(400, 'malformed If header');
  };
  const skip = () => {
    while (i < header.length && /\s/.test(header[i]!)) i += 1;
  };
  const until = (end: string): string => {
    const j = header.indexOf(end, i + 1);
    if (j < 0) bad();
    const s = header.slice(i + 1, j);
    i = j + 1;
    return s;
  };
  for (;;) {
    skip();
    if (i >= header.length) break;
    const c = header[i];
    if (c === '<') {
      if (tagged === false) bad();
      tagged = true;
      resource = until('>').trim();
      skip();
      if (header[i] !== '(') bad();
      continue;
    }
    if (c !== '(') bad();
    if (tagged === null) tagged = false;
    i += 1;
    const conditions: IfCondition[] = [];
    for (;;) {
      skip();
      if (i >= header.length) bad();
      let not = false;
      if (header.startsWith('Not', i) || header.startsWith('not', i) || header.startsWith('NOT', i)) {
        not = true;
        i += 3;
        skip();
      }
      const d = header[i];
      if (d === '<') conditions.push({ not, token: until('>').trim() });
      else if (d === '[') conditions.push({ not, etag: until(']').trim() });
      else if (d === ')' && !not) {
        i += 1;
        break;
      } else bad();
    }
    if (conditions.length === 0) bad();
    lists.push({ resource: tagged ? resource : null, conditions });
  }
  if (lists.length === 0) bad();
  return lists;
}

/** Lock tokens the client submitted (not negated): they go into session.lockTokens. */
export function submittedTokens(lists: IfList[]): string[] {
  const out = new Set<string>();
  for (const l of lists) for (const c of l.conditions) if (c.token && !c.not) out.add(c.token);
  return [...out];
}

export interface ResourceState {
  /** Current entity tag, null when the resource does not exist. */
  etag: string | null;
  /** Tokens of the locks that cover the resource. */
  lockTokens: string[];
}

/** The If header's entity-tag condition, by the weak comparison every HTTP door uses (protocols/common). */
export function sameEtag(a: string, b: string): boolean {
  return weakMatch(a.trim(), b.trim());
}

/** True when at least one list holds: every condition of the list matches its resource's state. */
export async function evaluateIf(lists: IfList[], stateOf: (resource: string | null) => Promise<ResourceState>): Promise<boolean> {
  const cache = new Map<string | null, ResourceState>();
  for (const list of lists) {
    let state = cache.get(list.resource);
    if (!state) {
      state = await stateOf(list.resource);
      cache.set(list.resource, state);
    }
    const holds = list.conditions.every((c) => {
      const match = c.token !== undefined ? state.lockTokens.includes(c.token) : state.etag !== null && sameEtag(state.etag, c.etag!);
      return c.not ? !match : match;
    });
    if (holds) return true;
  }
  return false;
}
