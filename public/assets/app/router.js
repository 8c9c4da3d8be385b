// The address bar is the state: /app/files/<root>/<folder…>, /app/trash/<root>, /app/shares,
// /app/account, /app/admin. Deep links, Back and reload all land where the user was.
import { useEffect, useState } from './lib.js';

const listeners = new Set();

export function parseRoute(pathname = location.pathname) {
  const parts = pathname.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (parts[0] !== 'app') return { view: 'home' };
  const [, view, root, ...rest] = parts;
  if (view === 'files' && root) return { view: 'files', root, dir: rest.join('/') };
  if (view === 'trash' && root) return { view: 'trash', root };
  if (view === 'shares' || view === 'account' || view === 'admin') return { view };
  return { view: 'home' };
}

const enc = (p) => p.split('/').filter(Boolean).map(encodeURIComponent).join('/');
export const filesHref = (root, dir = '') => `/app/files/${encodeURIComponent(root)}${dir ? `/${enc(dir)}` : ''}`;

export function navigate(href, { replace = false } = {}) {
  if (href === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const fn of listeners) fn(parseRoute());
}

export function useRoute() {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const onPop = () => setRoute(parseRoute());
    listeners.add(setRoute);
    addEventListener('popstate', onPop);
    return () => {
      listeners.delete(setRoute);
      removeEventListener('popstate', onPop);
    };
  }, []);
  return route;
}

/** A same-page link: plain <a href> for new tabs and copying, pushState for a plain click. */
export function linkClick(ev) {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.currentTarget;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
}
