'use strict';
(() => {
  const { $, el, size, date, encPath, errorOf, upload } = window.sg;
  const m = /^\/s\/([A-Za-z0-9_-]+)/.exec(location.pathname);
  const token = m ? m[1] : '';
  const base = `/s/${token}`;
  let dir = new URLSearchParams(location.search).get('dir') || '';

  function show(id) {
    for (const s of ['password-form', 'file', 'folder', 'drop']) $(s).hidden = s !== id;
    $('status').hidden = id !== null;
  }

  function fail(message) {
    show(null);
    $('status').textContent = message;
    $('status').className = 'error';
  }

  let current = null;

  async function load() {
    const res = await fetch(`${base}/meta${dir ? `?dir=${encodeURIComponent(dir)}` : ''}`, { credentials: 'same-origin' });
    if (res.status === 401) return askPassword();
    if (!res.ok) {
      const e = await errorOf(res);
      if (res.status === 404) return fail('This link does not exist, has expired or was revoked.');
      if (res.status === 403 && e.details && e.details.reason === 'exhausted' && current && current.uploadOnly) {
        // A drop box that is full: what was sent stays listed, the form goes.
        $('upload-form').hidden = true;
        $('drop-limit').textContent = 'This link takes no more uploads.';
        return null;
      }
      if (res.status === 403 && e.details && e.details.reason === 'exhausted') return fail('This link has been used as often as its owner allowed: it cannot be used any more.');
      if (res.status === 403) return fail(e.message || 'This link cannot be used any more.');
      if (res.status === 429) return fail('Too many attempts. Try again later.');
      return fail(e.message || 'Something went wrong.');
    }
    current = await res.json();
    render(current);
    return current;
  }

  /**
   * A download starts only after the link was asked whether it still works: a used-up or revoked
   * link then says so on the page instead of failing in the browser's download list. Afterwards
   * the remaining count is asked again.
   */
  document.addEventListener('click', async (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest('a[data-download]') : null;
    if (!a) return;
    ev.preventDefault();
    const meta = await load();
    if (!meta) return;
    if (meta.downloadsLeft === 0) return fail('This link has been used as often as its owner allowed: it cannot be used any more.');
    const go = document.createElement('a');
    go.href = a.getAttribute('href');
    if (a.hasAttribute('download')) go.download = a.getAttribute('download');
    document.body.append(go);
    go.click();
    go.remove();
    if (meta.downloadsLeft !== null && meta.downloadsLeft !== undefined) setTimeout(() => load().catch(() => {}), 800);
  });

  function askPassword() {
    show('password-form');
    $('password').focus();
  }

  $('password-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const res = await fetch(`${base}/auth`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: $('password').value }),
    });
    if (res.ok) return load();
    const e = await errorOf(res);
    $('password-error').textContent = res.status === 429 ? 'Too many attempts. Try again later.' : e.message || 'Wrong password.';
  });

  function expiry(meta) {
    const parts = [];
    if (meta.expiresAt) parts.push(`available until ${date(meta.expiresAt)}`);
    const left = meta.downloadsLeft;
    const what = meta.uploadOnly ? 'upload' : 'download';
    if (left !== null && left !== undefined) parts.push(`${left} ${what}${left === 1 ? '' : 's'} left`);
    return parts.length ? ` · ${parts.join(' · ')}` : '';
  }

  function render(meta) {
    document.title = `${meta.name} · syncgate`;
    if (meta.uploadOnly) {
      show('drop');
      $('drop-name').textContent = `Send files to “${meta.name}”`;
      $('drop-limit').textContent = expiry(meta).replace(/^ · /, '');
      return;
    }
    if (meta.kind === 'file') {
      show('file');
      $('file-name').textContent = meta.name;
      $('file-size').textContent = size(meta.size);
      $('file-expiry').textContent = expiry(meta);
      $('file-download').href = `${base}/download`;
      $('file-download').dataset.download = '';
      return;
    }
    show('folder');
    $('folder-name').textContent = meta.name;
    const crumbs = $('crumbs');
    crumbs.textContent = '';
    const parts = meta.dir ? meta.dir.split('/') : [];
    const top = el('a', { href: '#' }, meta.name);
    top.addEventListener('click', (e) => navigate(e, ''));
    crumbs.append(top);
    parts.forEach((p, i) => {
      const a = el('a', { href: '#' }, p);
      a.addEventListener('click', (e) => navigate(e, parts.slice(0, i + 1).join('/')));
      crumbs.append(' / ', a);
    });
    const tbody = $('entries');
    tbody.textContent = '';
    for (const e of meta.entries) {
      const tr = el('tr');
      const name = el('td');
      if (e.kind === 'dir') {
        const a = el('a', { href: '#' }, `${e.name}/`);
        a.addEventListener('click', (ev) => navigate(ev, e.path));
        name.append(a);
      } else {
        name.append(el('a', { href: `${base}/download/${encPath(e.path)}`, download: e.name, 'data-download': '' }, e.name));
      }
      tr.append(name, el('td', { class: 'num' }, e.kind === 'dir' ? '' : size(e.size)), el('td', {}, date(e.mtime)));
      tbody.append(tr);
    }
    $('zip-download').href = meta.dir ? `${base}/download/${encPath(meta.dir)}` : `${base}/download`;
    $('zip-download').dataset.download = '';
    $('folder-expiry').textContent = expiry(meta).replace(/^ · /, '');
  }

  function navigate(ev, to) {
    ev.preventDefault();
    dir = to;
    history.replaceState(null, '', to ? `${base}?dir=${encodeURIComponent(to)}` : base);
    load();
  }

  $('upload-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const files = Array.from($('upload-files').files);
    const bar = $('upload-progress');
    bar.hidden = false;
    for (const f of files) {
      const li = el('li', {}, `${f.name}: uploading…`);
      $('uploaded').append(li);
      try {
        const r = await upload('POST', `${base}/upload?name=${encodeURIComponent(f.name)}`, f, {}, (done, total) => {
          bar.value = Math.round((done / total) * 100);
        });
        // Only the visitor's own name: where it was stored ("name (1)") would tell which names exist.
        li.textContent = `${f.name}: sent (${size(r.size)})`;
      } catch (e) {
        li.textContent = `${f.name}: ${e.message}`;
        li.className = 'error';
      }
      const meta = await load().catch(() => null);
      if (!meta) break;
    }
    bar.value = 100;
    $('upload-form').reset();
  });

  load().catch(() => fail('Something went wrong.'));
})();
