'use strict';
// Small helpers shared by the share page and the file browser (no framework, no build step).
window.sg = {
  $(id) {
    return document.getElementById(id);
  },
  el(tag, attrs = {}, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  },
  size(n) {
    if (n === null || n === undefined) return '';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i += 1;
    }
    return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
  },
  date(iso) {
    return iso ? new Date(iso).toLocaleString() : '';
  },
  /** Path segments encoded one by one ('a b/c' -> 'a%20b/c'). */
  encPath(p) {
    return p.split('/').map(encodeURIComponent).join('/');
  },
  async errorOf(res) {
    try {
      const j = await res.json();
      return j.error || { code: String(res.status), message: res.statusText };
    } catch {
      return { code: String(res.status), message: res.statusText };
    }
  },
  /** Uploads with XMLHttpRequest so progress can be shown; resolves with the parsed JSON answer. */
  upload(method, url, file, headers, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded, e.total);
      };
      xhr.onload = () => {
        let body = null;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {}
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new Error((body && body.error && body.error.message) || `upload failed (${xhr.status})`));
      };
      xhr.onerror = () => reject(new Error('network error'));
      xhr.send(file);
    });
  },
};
