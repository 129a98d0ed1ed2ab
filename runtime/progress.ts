import cliProgress from "cli-progress";

/** A progress display for long work: a bar on a terminal, periodic lines elsewhere (CI logs). */
export interface Progress {
  update(done: number, detail?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

/**
 * Shows progress of `total` units of work on stderr.
 *
 * @example
 * ```ts
 * const p = progress("records", 1_000_000);
 * p.update(500_000);
 * p.stop();
 * ```
 */
export function progress(
  label: string,
  initialTotal: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  let total = initialTotal;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {detail}`,
        stream,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { detail: "" });
    return {
      update: (done, detail = "") => bar.update(done, { detail }),
      setTotal: (t) => bar.setTotal(t),
      stop: () => bar.stop(),
    };
  }
  let lastPercent = -10;
  return {
    update: (done, detail = "") => {
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
      if (percent >= lastPercent + 10) {
        lastPercent = percent - (percent % 10);
        stream.write(`${label}: ${percent}% (${done}/${total}) ${detail}\n`);
      }
    },
    setTotal: (t) => {
      total = t;
    },
    stop: () => undefined,
  };
}
