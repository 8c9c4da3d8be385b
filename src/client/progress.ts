/**
 * Progress bars for long transfers (cli-progress), only on a terminal and only past a size. A pass
 * runs several transfers at once: each takes a lane (its own bar, drawn with the others by one
 * MultiBar); a finished bar stays on screen at its last value, as a single bar did. Above them, one
 * status line counts the whole sync's files as they go (a first sync of 20,000 small files showed
 * nothing for a minute: no file of it was big enough for a bar), as rclone's -P and Syncthing's
 * folder completion do; it goes when the sync ends, before its summary is printed.
 */
import cliProgress from 'cli-progress';

const MIN_BYTES = 8 * 1024 * 1024;

export interface Progress {
  start(label: string, total: number): { add(n: number): void } | undefined;
  stop(): void;
  /** A Progress of its own for one of several transfers at once. */
  lane?(): Progress;
  /** The status line of the whole sync, redrawn in place (at most 10 times a second); null: done. */
  status?(text: string | null): void;
  /** Stops drawing at once (the process is about to exit): the terminal gets its cursor back. */
  end?(): void;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!stream.isTTY) return undefined;
  let multi: cliProgress.MultiBar | null = null;
  let running = 0;
  let line: cliProgress.SingleBar | null = null;
  const bars = () => (multi ??= new cliProgress.MultiBar({ format: '{label} [{bar}] {percentage}% {value}/{total} bytes', stream, hideCursor: true }, cliProgress.Presets.shades_classic));
  const done = () => {
    // The last bar running: draw them all a final time and let the terminal go.
    running -= 1;
    if (running === 0) {
      multi?.stop();
      multi = null;
    }
  };
  const status = (text: string | null) => {
    if (text === null) {
      if (!line) return;
      multi?.remove(line);
      line = null;
      done();
    } else if (line) line.update(0, { text });
    else {
      line = bars().create(0, 0, { text }, { format: '{text}' });
      running += 1;
    }
  };
  const lane = (): Progress => {
    let bar: cliProgress.SingleBar | null = null;
    return {
      start(label, total) {
        if (total < MIN_BYTES) return undefined;
        const b = bars().create(total, 0, { label });
        bar = b;
        running += 1;
        return { add: (n) => b.increment(n) };
      },
      stop() {
        if (!bar) return;
        bar.stop();
        bar = null;
        done();
      },
      lane,
      status,
      end() {
        multi?.stop();
        multi = null;
      },
    };
  };
  return lane();
}
