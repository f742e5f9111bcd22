/**
 * What the benchmarks in scripts/bench/ share: timing with memory sampling, running one variant
 * per fresh node process (so memory figures do not mix), a bare imapflow client, and a table.
 */
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { withDirect } from "../test/helpers";

export interface Measured {
  /** Milliseconds per timed run. */
  times: number[];
  /** Per run: peak growth of JS heap + ArrayBuffers (Buffers live there) over the start of the run. */
  memoryPeaks: number[];
  /** Peak RSS of the process over its RSS before the first (warm-up) run. */
  rssPeak: number;
  /** Whatever the variant wants to check against the others (UIDs, sizes). */
  check: unknown;
}

export const quiet = (): undefined => undefined;
/** A spectral logger that writes nothing (the harness' default mock writes to the console). */
export const silentLogger = {
  metric: quiet,
  trace: quiet,
  debug: quiet,
  info: quiet,
  log: quiet,
  warn: quiet,
  error: quiet,
};

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const ms = (value: number): string => `${value.toFixed(1)} ms`;
export const ratio = (a: number, b: number): string => `${(a / Math.max(b, 1e-9)).toFixed(2)}x`;

const used = () => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

/** A warm-up, then `runs` timed runs, each with memory sampled every millisecond. */
export async function measure(runs: number, run: () => Promise<unknown>): Promise<Measured> {
  const gc = globalThis.gc ?? quiet;
  gc();
  const rssBefore = process.memoryUsage().rss;
  let check = await run();
  const times: number[] = [];
  const memoryPeaks: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    gc();
    const before = used();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, used());
    }, 1);
    const start = performance.now();
    check = await run();
    times.push(performance.now() - start);
    clearInterval(sampler);
    memoryPeaks.push(Math.max(peak, used()) - before);
  }
  return { times, memoryPeaks, rssPeak: process.resourceUsage().maxRSS * 1024 - rssBefore, check };
}

/** Runs `file --child <args>` in a fresh node process and returns the Measured it prints last. */
export function runChild(file: string, args: string[]): Measured {
  // Progress on stderr as each variant starts and ends: a variant can take a minute.
  process.stderr.write(`  ${args[0] ?? "variant"} ...`);
  const started = performance.now();
  const out = spawnSync(
    process.execPath,
    ["--expose-gc", "-r", "ts-node/register/transpile-only", file, "--child", ...args],
    {
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  process.stderr.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  if (out.status !== 0) throw new Error(`${args.join(" ")} failed:\n${out.stderr}`);
  const lines = out.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Measured;
}

/** The child side of runChild. */
export function childMain(run: (args: string[]) => Promise<Measured>): boolean {
  if (process.argv[2] !== "--child") return false;
  run(process.argv.slice(3))
    .then((result) => console.log(JSON.stringify(result)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
  return true;
}

/**
 * A client as a builder would write it with imapflow alone, over TLS to the test server: the
 * tests' direct client, and its logout-and-close.
 */
export { closeDirect as closeBare, directClient as bareClient } from "../test/helpers";

/**
 * The UID and size of the one message in `mailbox`, appended (as `build()` makes it) when the
 * mailbox does not hold exactly one message yet, so later runs reuse it.
 */
export async function ensureMessage(
  user: string,
  mailbox: string,
  build: () => Buffer,
): Promise<{ uid: number; size: number }> {
  return withDirect(user, async (client) => {
    const status = await client.status(mailbox, { messages: true }).catch(() => false as const);
    if (!status || status.messages !== 1) {
      await client.mailboxDelete(mailbox).catch(() => undefined);
      await client.mailboxCreate(mailbox);
      await client.append(mailbox, build());
    }
    const lock = await client.getMailboxLock(mailbox, { readOnly: true });
    try {
      const message = await client.fetchOne("*", { uid: true, size: true }, { uid: true });
      if (!message || !message.size) throw new Error(`no message in ${mailbox}`);
      return { uid: message.uid, size: message.size };
    } finally {
      lock.release();
    }
  });
}

export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  for (const row of rows)
    console.log(
      row
        .map((cell, col) => (cell ?? "").padEnd(widths[col]))
        .join("  ")
        .trimEnd(),
    );
}
