import sax from 'sax';

/**
 * WebDAV request bodies: parsed with sax in strict, namespace-aware mode into a small tree of
 * (namespace, local name) elements. A DOCTYPE is refused outright, so no entity can be declared
 * (no XXE, no entity expansion); sax itself only knows the five XML entities.
 */
export const DAV = 'DAV:';

export interface XmlElement {
  ns: string;
  name: string;
  attrs: { ns: string; name: string; value: string }[];
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

export class XmlError extends Error {}

const MAX_DEPTH = 64;
const MAX_NODES = 100_000;
const XMLNS = 'http://www.w3.org/2000/xmlns/';

export function parseXml(text: string): XmlElement {
  const parser = sax.parser(true, { xmlns: true, position: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let failure: string | null = null;
  let nodes = 0;
  const stop = (why: string) => {
    failure ??= why;
  };
  parser.onerror = (e) => {
    stop(e.message.split('\n')[0] ?? 'malformed XML');
    throw new XmlError('malformed XML');
  };
  parser.ondoctype = () => {
    stop('DOCTYPE is not allowed');
    throw new XmlError('DOCTYPE is not allowed');
  };
  parser.onopentag = (tag) => {
    const t = tag as sax.QualifiedTag;
    nodes += 1;
    if (stack.length >= MAX_DEPTH || nodes > MAX_NODES) throw new XmlError('XML too deep or too large');
    const attrs: XmlElement['attrs'] = [];
    for (const a of Object.values(t.attributes)) {
      if (a.name.startsWith('xmlns:') && a.value === '') throw new XmlError('a namespace prefix is bound to the empty namespace');
      if (a.uri === XMLNS || a.name === 'xmlns') continue;
      attrs.push({ ns: a.uri, name: a.local, value: a.value });
    }
    const el: XmlElement = { ns: t.uri, name: t.local, attrs, children: [] };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (root) throw new XmlError('more than one root element');
    else root = el;
    stack.push(el);
  };
  parser.onclosetag = () => {
    stack.pop();
  };
  const onText = (s: string) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(s);
    else if (s.trim() !== '') throw new XmlError('text outside the root element');
  };
  parser.ontext = onText;
  parser.oncdata = onText;
  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof XmlError) throw err;
    throw new XmlError(failure ?? 'malformed XML');
  }
  if (failure) throw new XmlError(failure);
  if (!root) throw new XmlError('no root element');
  return root;
}

export function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string');
}

export function child(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  return elements(el).find((c) => c.ns === ns && c.name === name);
}

export function isDav(el: XmlElement, name: string): boolean {
  return el.ns === DAV && el.name === name;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#13;'));
}

/**
 * The inner XML of an element as self-contained text: every element carries its own namespace
 * declaration, so the value means the same wherever it is pasted back (dead properties, lock owner).
 */
export function innerXml(el: XmlElement): string {
  return el.children.map(serializeNode).join('');
}

function serializeNode(n: XmlNode): string {
  if (typeof n === 'string') return escapeXml(n);
  const decls: string[] = [`xmlns="${escapeXml(n.ns)}"`];
  const attrs: string[] = [];
  n.attrs.forEach((a, i) => {
    if (a.ns === '') attrs.push(`${a.name}="${escapeXml(a.value)}"`);
    else if (a.ns === 'http://www.w3.org/XML/1998/namespace') attrs.push(`xml:${a.name}="${escapeXml(a.value)}"`);
    else {
      decls.push(`xmlns:a${i}="${escapeXml(a.ns)}"`);
      attrs.push(`a${i}:${a.name}="${escapeXml(a.value)}"`);
    }
  });
  const open = `${n.name} ${[...decls, ...attrs].join(' ')}`;
  return n.children.length === 0 ? `<${open}/>` : `<${open}>${n.children.map(serializeNode).join('')}</${n.name}>`;
}

/** An element in any namespace as text: `<x:name xmlns:x="ns">inner</x:name>`. */
export function propertyXml(ns: string, name: string, inner: string | null): string {
  const open = ns === '' ? `${name} xmlns=""` : ns === DAV ? `D:${name}` : `X:${name} xmlns:X="${escapeXml(ns)}"`;
  const close = ns === '' ? name : ns === DAV ? `D:${name}` : `X:${name}`;
  return inner === null || inner === '' ? `<${open}/>` : `<${open}>${inner}</${close}>`;
}
