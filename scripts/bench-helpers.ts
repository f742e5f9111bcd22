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
  /**
   * Per run: peak growth of JS heap + external memory over the start of the run. External memory
   * holds Buffers and also the large strings Node makes outside the heap (a Buffer's base64 of
   * more than about 1 MB), which `arrayBuffers` leaves out.
   */
  memoryPeaks: number[];
  /**
   * Peak growth of live memory in one more, untimed run: garbage is collected right before each
   * sample taken after a large allocation, so what V8 has not collected yet does not count.
   */
  livePeak: number;
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
  return usage.heapUsed + usage.external;
};

/** Results at least this large are sampled the moment they are made. */
const LARGE = 1024 * 1024;
let sampleNow: (() => void) | undefined;
/** Whether samples after a large allocation collect garbage first (the live run). */
let collectFirst = false;

/**
 * Samples memory right after each large Buffer or string is made. A timer alone misses the
 * highest point: it cannot fire while a synchronous step (a Buffer.concat, a base64 encoding)
 * holds both the parts and the whole, and by its next tick the parts may be collected. Memory
 * peaks just after an allocation, so sampling there catches what the timer misses.
 */
function sampleLargeAllocations(): void {
  const sized = (value: unknown): void => {
    if (
      sampleNow &&
      (typeof value === "string" || Buffer.isBuffer(value)) &&
      value.length >= LARGE
    ) {
      // twice: the second collection finishes releasing the Buffers the first one found dead
      if (collectFirst) for (let i = 0; i < 2; i += 1) globalThis.gc?.();
      sampleNow();
    }
  };
  const wrap = <T extends object, K extends keyof T>(owner: T, key: K): void => {
    const original = owner[key] as unknown as (...args: unknown[]) => unknown;
    Object.defineProperty(owner, key, {
      configurable: true,
      writable: true,
      value: function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        sized(result);
        return result;
      },
    });
  };
  for (const key of ["concat", "from", "alloc", "allocUnsafe", "allocUnsafeSlow"] as const)
    wrap(Buffer, key);
  wrap(Buffer.prototype, "toString");
  wrap(String.prototype, "replace");
}

/**
 * Collects garbage and waits until the Buffers it freed are gone from the figures: V8 releases
 * their memory after the collection, off the main thread, so right after gc() the previous run's
 * Buffers still count, and a peak measured from there comes out too low by as much as they hold.
 */
async function settle(gc: () => void): Promise<void> {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A warm-up, then `runs` timed runs, each with memory sampled every millisecond and right after
 * every large Buffer or string is made.
 */
export async function measure(runs: number, run: () => Promise<unknown>): Promise<Measured> {
  const gc = globalThis.gc ?? quiet;
  sampleLargeAllocations();
  gc();
  const rssBefore = process.memoryUsage().rss;
  let check = await run();
  const times: number[] = [];
  const memoryPeaks: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    await settle(gc);
    const before = used();
    let peak = before;
    sampleNow = () => {
      peak = Math.max(peak, used());
    };
    const sampler = setInterval(sampleNow, 1);
    const start = performance.now();
    check = await run();
    times.push(performance.now() - start);
    clearInterval(sampler);
    sampleNow = undefined;
    memoryPeaks.push(Math.max(peak, used()) - before);
  }
  await settle(gc);
  const before = used();
  let livePeak = before;
  sampleNow = () => {
    livePeak = Math.max(livePeak, used());
  };
  collectFirst = true;
  check = await run();
  collectFirst = false;
  sampleNow = undefined;
  return {
    times,
    memoryPeaks,
    livePeak: livePeak - before,
    rssPeak: process.resourceUsage().maxRSS * 1024 - rssBefore,
    check,
  };
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
