'use strict';
(() => {
  const { $, el, size, date, encPath, errorOf, upload } = window.sg;
  const state = { csrf: '', root: '', dir: '', events: null };

  async function api(method, url, json) {
    const headers = { 'x-csrf-token': state.csrf, 'x-requested-with': 'XMLHttpRequest' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, credentials: 'same-origin', headers, body: json === undefined ? undefined : JSON.stringify(json) });
    if (!res.ok) {
      const e = await errorOf(res);
      const err = new Error(e.message || `request failed (${res.status})`);
      err.status = res.status;
      throw err;
    }
    return res.status === 204 ? null : res.json();
  }

  function showError(e) {
    $('browser-error').textContent = e ? e.message : '';
  }

  // A 401 from the API carries a Basic challenge, and Chromium answers a challenged fetch with a
  // password dialog: ask the server only when this tab logged in before (the hint is the CSRF token).
  async function start() {
    if (!sessionStorage.getItem('sg.csrf')) return showLogin();
    const res = await fetch('/api/v1/me', { credentials: 'same-origin', headers: { 'x-requested-with': 'XMLHttpRequest' } });
    if (!res.ok) return showLogin();
    const me = await res.json();
    state.csrf = me.csrfToken || '';
    sessionStorage.setItem('sg.csrf', state.csrf);
    await showBrowser(me.user);
  }

  function showLogin() {
    $('login-form').hidden = false;
    $('browser').hidden = true;
    $('logout').hidden = true;
    $('who').textContent = '';
    $('login-user').focus();
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('login-error').textContent = '';
    const res = await fetch('/api/v1/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'XMLHttpRequest' },
      body: JSON.stringify({ user: $('login-user').value, password: $('login-password').value, mode: 'cookie' }),
    });
    if (!res.ok) {
      const e = await errorOf(res);
      $('login-error').textContent = res.status === 429 ? 'Too many attempts. Try again later.' : e.message;
      return;
    }
    const out = await res.json();
    state.csrf = out.csrfToken;
    sessionStorage.setItem('sg.csrf', state.csrf);
    $('login-password').value = '';
    await showBrowser(out.user);
  });

  $('logout').addEventListener('click', async () => {
    await api('POST', '/api/v1/logout').catch(() => {});
    if (state.events) state.events.close();
    state.csrf = '';
    sessionStorage.removeItem('sg.csrf');
    showLogin();
  });

  async function showBrowser(user) {
    $('login-form').hidden = true;
    $('browser').hidden = false;
    $('logout').hidden = false;
    $('who').textContent = user.name;
    const { roots } = await api('GET', '/api/v1/roots');
    const nav = $('roots');
    nav.textContent = '';
    for (const r of roots) {
      const a = el('a', { href: '#', 'data-root': r.name }, r.name);
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        openRoot(r.name);
      });
      nav.append(a);
    }
    if (roots.length) await openRoot(roots[0].name);
  }

  async function openRoot(name) {
    state.root = name;
    for (const a of $('roots').querySelectorAll('a')) a.classList.toggle('active', a.dataset.root === name);
    if (state.events) state.events.close();
    // Live updates: re-list when something changes in the folder on view.
    state.events = new EventSource(`/api/v1/roots/${encodeURIComponent(name)}/events`);
    let pending = null;
    state.events.addEventListener('change', (ev) => {
      const c = JSON.parse(ev.data);
      const parent = c.path.includes('/') ? c.path.slice(0, c.path.lastIndexOf('/')) : '';
      if (parent !== state.dir) return;
      clearTimeout(pending);
      pending = setTimeout(() => list(state.dir).catch(showError), 200);
    });
    await list('');
  }

  const rootUrl = (what, p) => `/api/v1/roots/${encodeURIComponent(state.root)}/${what}${p ? `/${encPath(p)}` : ''}`;

  async function list(dir) {
    showError(null);
    const { entries } = await api('GET', rootUrl('list', dir));
    state.dir = dir;
    const crumbs = $('crumbs');
    crumbs.textContent = '';
    const top = el('a', { href: '#' }, state.root);
    top.addEventListener('click', (ev) => {
      ev.preventDefault();
      list('').catch(showError);
    });
    crumbs.append(top);
    const parts = dir ? dir.split('/') : [];
    parts.forEach((p, i) => {
      const a = el('a', { href: '#' }, p);
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        list(parts.slice(0, i + 1).join('/')).catch(showError);
      });
      crumbs.append(' / ', a);
    });
    const tbody = $('entries');
    tbody.textContent = '';
    for (const e of entries) {
      const tr = el('tr', { 'data-path': e.path });
      const name = el('td');
      if (e.kind === 'dir') {
        const a = el('a', { href: '#' }, `${e.name}/`);
        a.addEventListener('click', (ev) => {
          ev.preventDefault();
          list(e.path).catch(showError);
        });
        name.append(a);
      } else {
        name.append(el('a', { href: rootUrl('files', e.path), download: e.name, class: 'download' }, e.name));
      }
      const actions = el('td');
      const share = el('button', { type: 'button', class: 'link share' }, 'Share');
      share.addEventListener('click', () => createShare(e.path).catch(showError));
      actions.append(share);
      tr.append(name, el('td', { class: 'num' }, e.kind === 'dir' ? '' : size(e.size)), el('td', {}, date(e.mtime)), actions);
      tbody.append(tr);
    }
  }

  async function createShare(p) {
    const out = await api('POST', '/api/v1/shares', { root: state.root, path: p });
    $('share-box').hidden = false;
    $('share-url').value = out.url;
    $('share-url').select();
  }

  $('upload-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const files = Array.from($('upload-file').files);
    const bar = $('upload-progress');
    const status = $('upload-status');
    bar.hidden = false;
    for (const f of files) {
      bar.value = 0;
      status.textContent = `${f.name}: 0%`;
      try {
        await upload('PUT', rootUrl('files', state.dir ? `${state.dir}/${f.name}` : f.name), f, { 'x-csrf-token': state.csrf }, (done, total) => {
          const pct = Math.round((done / total) * 100);
          bar.value = pct;
          status.textContent = `${f.name}: ${pct}%`;
        });
        bar.value = 100;
        status.textContent = `${f.name}: uploaded`;
      } catch (e) {
        status.textContent = `${f.name}: ${e.message}`;
      }
    }
    $('upload-form').reset();
    await list(state.dir).catch(showError);
  });

  start().catch(() => showLogin());
})();
