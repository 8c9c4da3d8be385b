/**
 * Desktop notifications for conflicts (off by default: `sync --notify` or SYNCGATE_CLIENT_NOTIFY=1).
 * node-notifier speaks each platform's own (notify-send on Linux, Notification Center on macOS,
 * toasts on Windows). A notification is a courtesy: one that cannot be shown (no notify-send, no
 * desktop session) is dropped silently and never fails or slows the sync.
 */
export interface Notifier {
  notify(title: string, message: string): void | Promise<void>;
}

/** The platform's notifications, loaded only when asked for (the client starts without it). */
export function desktopNotifier(): Notifier {
  let lib: Promise<{ notify: (o: object, cb: (err: unknown) => void) => void } | null> | null = null;
  return {
    async notify(title, message) {
      lib ??= import('node-notifier').then((m) => (m.default ?? m) as never, () => null);
      const n = await lib;
      await new Promise<void>((resolve) => {
        try {
          n?.notify({ title, message, wait: false }, () => resolve());
          if (!n) resolve();
        } catch {
          resolve();
        }
      });
    },
  };
}

/** The notifier the user asked for, or none (the default). */
export function chosenNotifier(flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): Notifier | undefined {
  const on = flag === true || /^(1|true|on|yes)$/i.test(env.SYNCGATE_CLIENT_NOTIFY ?? '');
  return on ? desktopNotifier() : undefined;
}

/** Tells of a conflict without ever throwing nor waiting for the desktop. */
export function tellConflict(notifier: Notifier | undefined, dir: string, note: string): void {
  if (!notifier) return;
  try {
    void Promise.resolve(notifier.notify(`syncgate: conflict in ${dir}`, note)).catch(() => undefined);
  } catch {
    // a notifier that throws is the same as none
  }
}
