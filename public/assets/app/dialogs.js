// Modal dialogs on the native <dialog> element: focus is trapped and restored by the browser,
// Escape closes, and everything behind is inert.
import { html, useEffect, useRef, useState } from './lib.js';
import { ApiError } from './api.js';

export function Modal({ title, onClose, children, wide }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d.open) d.showModal();
    const onCancel = () => onClose();
    d.addEventListener('close', onCancel);
    return () => d.removeEventListener('close', onCancel);
  }, []);
  return html`<dialog ref=${ref} class=${wide ? 'wide' : ''} aria-labelledby="dialog-title">
    <div class="dialog-head">
      <h2 id="dialog-title">${title}</h2>
      <button type="button" class="icon" aria-label="Close" onClick=${() => ref.current.close()}>✕</button>
    </div>
    ${children}
  </dialog>`;
}

/** A form in a dialog whose submit runs `action`; errors are shown in it, success closes it. */
export function FormDialog({ title, submit, action, onClose, children, danger }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const onSubmit = async (ev) => {
    ev.preventDefault();
    setBusy(true);
    setError('');
    try {
      // 'keep': the dialog stays open for another round (e.g. sharing a root with several users).
      const form = ev.currentTarget;
      if ((await action(new FormData(form))) === 'keep') {
        form.reset();
        setBusy(false);
      } else onClose();
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };
  return html`<${Modal} title=${title} onClose=${onClose}>
    <form onSubmit=${onSubmit}>
      ${children}
      <p class="error" role="alert">${error}</p>
      <div class="actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" class=${danger ? 'danger' : ''} disabled=${busy}>${submit}</button>
      </div>
    </form>
  <//>`;
}

export function PromptDialog({ title, label, value = '', submit, onSubmit, onClose }) {
  return html`<${FormDialog} title=${title} submit=${submit} onClose=${onClose} action=${(f) => onSubmit(String(f.get('value') || '').trim())}>
    <label>${label} <input name="value" value=${value} required autofocus autocomplete="off" /></label>
  <//>`;
}

export function ConfirmDialog({ title, text, submit, onConfirm, onClose }) {
  return html`<${FormDialog} title=${title} submit=${submit} danger onClose=${onClose} action=${() => onConfirm()}>
    <p>${text}</p>
  <//>`;
}

/** Replace, keep both or skip, for one name; "for all" answers every later question the same. */
export function ReplaceDialog({ name, remaining, onAnswer }) {
  const [all, setAll] = useState(false);
  const answer = (choice) => onAnswer(choice, all);
  return html`<${Modal} title="Replace “${name}”?" onClose=${() => answer('skip')}>
    <p>A file named “${name}” already exists in this folder. The replaced version stays in its history.</p>
    ${remaining > 0 ? html`<label class="check"><input type="checkbox" checked=${all} onChange=${(e) => setAll(e.currentTarget.checked)} /> Do this for the other ${remaining} existing name(s)</label>` : null}
    <div class="actions">
      <button type="button" class="secondary" onClick=${() => answer('skip')}>Skip</button>
      <button type="button" class="secondary" onClick=${() => answer('both')}>Keep both</button>
      <button type="button" onClick=${() => answer('replace')}>Replace</button>
    </div>
  <//>`;
}
