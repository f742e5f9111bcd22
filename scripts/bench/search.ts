/**
 * Benchmark of Search Mailbox on a 100,000-message mailbox: the first page and a deep page (the
 * 50 messages below UID 1001, page ~1980 of 2000) through the component, next to a minimal bare
 * imapflow script doing the same (connect, open read-only, UID SEARCH ALL, UID FETCH of the page's
 * 50 UIDs with envelope, flags, size and date, logout). Prints median time, peak memory growth
 * (JS heap + buffers) and peak RSS growth, and the ratios.
 *
 *   npx ts-node --transpile-only scripts/bench/search.ts        (BENCH_RUNS=11 by default)
 *
 * Runs against the local test Dovecot as user `bench`. The mailbox is seeded once by writing
 * Maildir files and indexing them with `doveadm force-resync` (seconds, where APPEND would take
 * minutes), and reused by later runs. Each variant runs in a fresh node process so that memory
 * figures do not mix.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { encodeCursor, parseSearchRequest } from "../../src/search";
import { harness, rfc822, stateDir, tlsConnection, withDirect } from "../../test/helpers";
import type { Measured } from "../bench-helpers";
import {
  bareClient,
  childMain,
  closeBare,
  mb,
  measure,
  median,
  ms,
  printTable,
  ratio,
  runChild,
  silentLogger,
} from "../bench-helpers";

const USER = "bench";
const MAILBOX = "SearchBench-100k";
const SIZE = 100_000;
const PAGE = 50;
/** The deep page lists the PAGE messages below this UID. */
const DEEP_BELOW = 1001;
const RUNS = Number(process.env.BENCH_RUNS ?? 11);

async function status(): Promise<
  { messages: number; uidNext: number; uidValidity: bigint } | undefined
> {
  return withDirect(USER, async (client) => {
    const found = await client
      .status(MAILBOX, { messages: true, uidNext: true, uidValidity: true })
      .catch(() => false as const);
    return found
      ? {
          messages: found.messages ?? 0,
          uidNext: found.uidNext ?? 0,
          uidValidity: found.uidValidity ?? 0n,
        }
      : undefined;
  });
}

/** Maildir++ with separator "/": mailbox a/b lives in <mail>/<user>/.a.b, one file per message in cur/. */
async function seed(): Promise<void> {
  const start = performance.now();
  await withDirect(USER, async (client) => {
    await client.mailboxDelete(MAILBOX).catch(() => undefined);
    await client.mailboxCreate(MAILBOX);
  });
  const cur = path.join(stateDir, "mail", USER, `.${MAILBOX.split("/").join(".")}`, "cur");
  const stamp = Math.floor(Date.now() / 1000);
  const base = Date.UTC(2024, 0, 1) / 1000;
  const senders = [
    "Alice Example <alice@example.com>",
    "Carol <carol@example.com>",
    "Dave <dave@example.com>",
  ];
  for (let i = 0; i < SIZE; i += 1) {
    const text = rfc822({
      subject: `Bench message ${i + 1}`,
      from: senders[i % senders.length],
      messageId: `<search-bench-${stamp}-${i}@example.com>`,
      date: new Date((base + i * 300) * 1000).toUTCString().replace("GMT", "+0000"),
      body: `Message ${i + 1} of the search benchmark.`,
    });
    // Zero-padded names keep Dovecot's UID order the order of writing; S= spares it a stat().
    const file = path.join(
      cur,
      `${stamp}.M${String(i).padStart(6, "0")}P${process.pid}.bench,S=${Buffer.byteLength(text)}:2,${i % 4 ? "S" : ""}`,
    );
    fs.writeFileSync(file, text);
    // The file's mtime is the message's arrival date (internal date).
    fs.utimesSync(file, base + i * 300, base + i * 300);
  }
  execFileSync("chown", ["-R", "imaptest:imaptest", path.dirname(cur)]);
  execFileSync("doveadm", [
    "-c",
    path.join(stateDir, "main.conf"),
    "force-resync",
    "-u",
    USER,
    MAILBOX,
  ]);
  const after = await status();
  if (after?.messages !== SIZE)
    throw new Error(`seeding ${MAILBOX} gave ${after?.messages} messages, not ${SIZE}`);
  console.log(`seeded ${SIZE} messages in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

async function viaComponent(cursor: string): Promise<number[]> {
  const { data } = (await harness.action(
    "searchMailbox",
    { connection: tlsConnection(USER), mailbox: MAILBOX, limit: String(PAGE), cursor },
    { logger: silentLogger },
  )) as {
    data: { messages: { uid: number }[] };
  };
  return data.messages.map((message) => message.uid);
}

/** What a builder would write with imapflow alone. */
async function viaBareImapflow(below: number): Promise<number[]> {
  const client = await bareClient(USER);
  try {
    const lock = await client.getMailboxLock(MAILBOX, { readOnly: true });
    try {
      const all = (await client.search({ all: true }, { uid: true })) || [];
      const page = all
        .filter((uid) => uid < below)
        .slice(-PAGE)
        .reverse();
      const messages = await client.fetchAll(
        page.join(","),
        { uid: true, flags: true, size: true, internalDate: true, envelope: true },
        { uid: true },
      );
      return messages.map((message) => message.uid).sort((a, b) => b - a);
    } finally {
      lock.release();
    }
  } finally {
    await closeBare(client);
  }
}

/** One variant, in this (fresh) process. */
async function child([variant, cursor]: string[]): Promise<Measured> {
  const deep = variant.endsWith("deep");
  if (variant.startsWith("component")) return measure(RUNS, () => viaComponent(deep ? cursor : ""));
  return measure(RUNS, () => viaBareImapflow(deep ? DEEP_BELOW : Infinity));
}

async function main(): Promise<void> {
  let found = await status();
  if (found?.messages !== SIZE) {
    await seed();
    found = await status();
  }
  if (!found) throw new Error(`${MAILBOX} is missing`);
  // A cursor as page ~1980 would hand over: made here instead of walking 1,980 pages first.
  const { fingerprint } = parseSearchRequest({ mailbox: MAILBOX, limit: String(PAGE) });
  const cursor = encodeCursor({
    uidValidity: found.uidValidity.toString(),
    top: found.uidNext - 1,
    last: DEEP_BELOW,
    search: fingerprint,
  });

  console.log(
    `searchMailbox on ${SIZE.toLocaleString("en")} messages, page of ${PAGE}: median of ${RUNS} runs after a warm-up, each variant in a fresh process.`,
  );
  console.log(
    "Memory: peak growth of JS heap + buffers during a run (sampled every ms), and peak RSS over the process before the first run.",
  );
  console.log("Machine: 2 CPU cores shared with other work, so times are noisy.\n");
  const rows: string[][] = [["page", "variant", "median", "min", "peak memory +", "peak RSS +"]];
  for (const depth of ["first", "deep"] as const) {
    const component = runChild(__filename, [`component-${depth}`, cursor]);
    const bare = runChild(__filename, [`bare-${depth}`, cursor]);
    const uids = component.check as number[];
    if (JSON.stringify(uids) !== JSON.stringify(bare.check))
      throw new Error(`the ${depth} pages differ between the component and bare imapflow`);
    const label = `${depth} (UIDs ${uids[0]}..${uids[uids.length - 1]})`;
    for (const [name, r] of [
      ["searchMailbox", component],
      ["bare imapflow", bare],
    ] as const) {
      rows.push([
        label,
        name,
        ms(median(r.times)),
        ms(Math.min(...r.times)),
        mb(median(r.memoryPeaks)),
        mb(Math.max(r.rssPeak, 0)),
      ]);
    }
    rows.push([
      label,
      "ratio",
      ratio(median(component.times), median(bare.times)),
      "",
      ratio(median(component.memoryPeaks), median(bare.memoryPeaks)),
      // RSS moves in whole pages and rarely shrinks: a growth under 1 MB is no basis for a ratio.
      Math.min(component.rssPeak, bare.rssPeak) < 1024 * 1024
        ? "n/a"
        : ratio(component.rssPeak, bare.rssPeak),
    ]);
  }
  printTable(rows);
}

if (!childMain(child)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
