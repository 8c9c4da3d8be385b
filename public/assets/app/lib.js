// The page's building blocks: Preact + htm (tagged templates: no build step, no eval, strict CSP),
// served by the gateway from the installed packages (see protocols/http/shares/vendor.ts).
import { h, render, Fragment } from '/assets/vendor/preact.mjs';
import { useState, useEffect, useRef, useMemo, useCallback } from '/assets/vendor/hooks.mjs';
import htm from '/assets/vendor/htm.mjs';

export const html = htm.bind(h);
export { render, Fragment, useState, useEffect, useRef, useMemo, useCallback };

export function size(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export const date = (iso) => (iso ? new Date(iso).toLocaleString() : '');

/** "file 2" before "file 10", "a" beside "A": how people sort names (Nextcloud and Finder do the same). */
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
export const compareNames = (a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

export const parentOf = (p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
export const joinPath = (dir, name) => (dir ? `${dir}/${name}` : name);
export const encPath = (p) => p.split('/').map(encodeURIComponent).join('/');

/** "name (1).ext", "name (2).ext", ...: the first that is not taken. */
export function freeName(name, taken) {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let i = 1; ; i += 1) {
    const candidate = `${stem} (${i})${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}
