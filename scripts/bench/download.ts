/**
 * Benchmark of Download Message on a 40 MB message (a 29 MB attachment, base64): the action,
 * next to bare imapflow fetching the source in one FETCH, and bare imapflow's download() (which
 * fetches 64 KiB per round trip). Prints median time, peak memory growth (JS heap + external) and
 * peak RSS growth, with the ratios to the single FETCH and to the message size.
 *
 *   npx ts-node --transpile-only scripts/bench/download.ts      (BENCH_RUNS=5 by default)
 *
 * Runs against the local test Dovecot as user `bench` over TLS (the component without COMPRESS,
 * bare imapflow with COMPRESS=DEFLATE, which it turns on); the message is appended once and
 * reused by later runs.
 */
import { randomBytes } from "node:crypto";
import { harness, tlsConnection } from "../../test/helpers";
import type { Measured } from "../bench-helpers";
import {
  bareClient,
  childMain,
  closeBare,
  ensureMessage,
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
const MAILBOX = "DownloadBench-40MB";
const TARGET = 40 * 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS_DOWNLOAD ?? 5);

function bigMessage(): Buffer {
  // Base64 lines of 76 characters carry 57 bytes each and take 78 bytes with CRLF.
  const attachment = randomBytes(Math.floor((TARGET - 1024) / 78) * 57);
  const lines = attachment.toString("base64").match(/.{1,76}/g) ?? [];
  const head = [
    "From: Alice Example <alice@example.com>",
    "To: Bob Example <bob@example.com>",
    "Subject: Twenty megabytes",
    "Date: Tue, 24 Nov 2026 10:00:00 +0000",
    "Message-ID: <download-bench@example.com>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="bench-boundary"',
    "",
    "--bench-boundary",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "The attachment is random data.",
    "--bench-boundary",
    'Content-Type: application/octet-stream; name="random.bin"',
    'Content-Disposition: attachment; filename="random.bin"',
    "Content-Transfer-Encoding: base64",
    "",
  ].join("\r\n");
  return Buffer.from(`${head}\r\n${lines.join("\r\n")}\r\n--bench-boundary--\r\n`);
}

async function viaComponent(uid: number): Promise<number> {
  const result = (await harness.action(
    "downloadMessage",
    { connection: tlsConnection(USER), mailbox: MAILBOX, uid: String(uid) },
    { logger: silentLogger },
  )) as {
    data: Buffer;
  };
  return result.data.length;
}

async function viaBare(uid: number, how: "fetch" | "download"): Promise<number> {
  const client = await bareClient(USER);
  try {
    const lock = await client.getMailboxLock(MAILBOX, { readOnly: true });
    try {
      if (how === "fetch") {
        const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
        return message && message.source ? message.source.length : 0;
      }
      const { content } = await client.download(String(uid), undefined, { uid: true });
      if (!content) return 0;
      const chunks: Buffer[] = [];
      for await (const chunk of content)
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      return Buffer.concat(chunks).length;
    } finally {
      lock.release();
    }
  } finally {
    await closeBare(client);
  }
}

async function child([variant, uidText]: string[]): Promise<Measured> {
  const uid = Number(uidText);
  if (variant === "component") return measure(RUNS, () => viaComponent(uid));
  return measure(RUNS, () => viaBare(uid, variant === "fetch" ? "fetch" : "download"));
}

async function main(): Promise<void> {
  const { uid, size } = await ensureMessage(USER, MAILBOX, bigMessage);
  console.log(
    `downloadMessage of a ${mb(size)} message (UID ${uid}): median of ${RUNS} runs after a warm-up, each variant in a fresh process.`,
  );
  console.log(
    "Memory: peak growth of JS heap + external memory (Buffers, large strings) during a run (sampled every ms and after each allocation of 1 MB or more); live: the same in one more run with garbage collected before each sample after such an allocation; peak RSS over the process before the first run.",
  );
  console.log(
    "TLS on loopback (COMPRESS=DEFLATE for bare imapflow only); machine: 2 CPU cores shared with other work, so times are noisy.\n",
  );
  const variants = [
    ["downloadMessage", "component"],
    ["bare imapflow, one FETCH of the source", "fetch"],
    ["bare imapflow, download()", "download"],
  ] as const;
  const results = variants.map(([, key]) => runChild(__filename, [key, String(uid)]));
  const single = results[1];
  const rows: string[][] = [
    [
      "variant",
      "median",
      "min",
      "time vs one FETCH",
      "peak memory +",
      "x message",
      "live peak +",
      "x message",
      "peak RSS +",
    ],
  ];
  variants.forEach(([name], i) => {
    const r = results[i];
    if (r.check !== size) throw new Error(`${name} returned ${String(r.check)} bytes, not ${size}`);
    rows.push([
      name,
      ms(median(r.times)),
      ms(Math.min(...r.times)),
      ratio(median(r.times), median(single.times)),
      mb(median(r.memoryPeaks)),
      ratio(median(r.memoryPeaks), size),
      mb(r.livePeak),
      ratio(r.livePeak, size),
      mb(r.rssPeak),
    ]);
  });
  printTable(rows);
}

if (!childMain(child)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
