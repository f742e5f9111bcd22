/**
 * Benchmark of Get Message on a message with a 20 MB attachment (27 MB with base64): the action
 * with includeAttachments off and on, next to bare imapflow fetching the source in one FETCH, and
 * that FETCH followed by mailparser's simpleParser (which buffers every attachment). Prints median
 * time, peak memory growth (JS heap + external) and peak RSS growth, with ratios to the message and
 * to the attachment.
 *
 *   npx ts-node --transpile-only scripts/bench/getMessage.ts      (BENCH_RUNS_GETMESSAGE=3 by default)
 *
 * Runs against the local test Dovecot as user `bench` over TLS (the component without COMPRESS,
 * bare imapflow with COMPRESS=DEFLATE); the message is appended once and reused by later runs.
 */
import { createHash, randomBytes } from "node:crypto";
import { simpleParser } from "mailparser";
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
const MAILBOX = "GetMessageBench-20MB";
const ATTACHMENT = 20 * 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS_GETMESSAGE ?? 3);

function bigMessage(): Buffer {
  const lines =
    randomBytes(ATTACHMENT)
      .toString("base64")
      .match(/.{1,76}/g) ?? [];
  const head = [
    "From: Alice Example <alice@example.com>",
    "To: Bob Example <bob@example.com>",
    "Subject: A twenty megabyte attachment",
    "Date: Tue, 24 Nov 2026 10:00:00 +0000",
    "Message-ID: <get-message-bench@example.com>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="bench-boundary"',
    "",
    "--bench-boundary",
    'Content-Type: multipart/alternative; boundary="alt"',
    "",
    "--alt",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "The attachment is random data.",
    "--alt",
    "Content-Type: text/html; charset=utf-8",
    "",
    "<p>The attachment is <b>random</b> data.</p>",
    "--alt--",
    "--bench-boundary",
    'Content-Type: application/octet-stream; name="random.bin"',
    'Content-Disposition: attachment; filename="random.bin"',
    "Content-Transfer-Encoding: base64",
    "",
  ].join("\r\n");
  return Buffer.from(`${head}\r\n${lines.join("\r\n")}\r\n--bench-boundary--\r\n`);
}

/** What every variant must agree on: the attachment's decoded size and SHA-256. */
type Check = { size: number; checksum: string };

async function viaComponent(uid: number, includeAttachments: boolean): Promise<Check> {
  const { data } = (await harness.action(
    "getMessage",
    {
      connection: tlsConnection(USER),
      mailbox: MAILBOX,
      uid: String(uid),
      includeAttachments: String(includeAttachments),
      maxAttachmentSize: String(25 * 1024 * 1024),
    },
    { logger: silentLogger },
  )) as { data: { attachments: { size: number; checksum: string; content: string | null }[] } };
  const [attachment] = data.attachments;
  if (includeAttachments && attachment.content?.length !== Math.ceil(ATTACHMENT / 3) * 4)
    throw new Error("content missing or cut");
  return { size: attachment.size, checksum: attachment.checksum };
}

async function viaBare(uid: number, parse: boolean): Promise<Check> {
  const client = await bareClient(USER);
  let source: Buffer | undefined;
  try {
    const lock = await client.getMailboxLock(MAILBOX, { readOnly: true });
    try {
      const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
      source = message ? message.source : undefined;
    } finally {
      lock.release();
    }
  } finally {
    await closeBare(client);
  }
  if (!source) throw new Error("no source");
  if (!parse) return { size: ATTACHMENT, checksum: "" };
  const parsed = await simpleParser(source);
  const [attachment] = parsed.attachments;
  return {
    size: attachment.size,
    checksum: createHash("sha256").update(attachment.content).digest("hex"),
  };
}

async function child([variant, uidText]: string[]): Promise<Measured> {
  const uid = Number(uidText);
  if (variant === "metadata") return measure(RUNS, () => viaComponent(uid, false));
  if (variant === "content") return measure(RUNS, () => viaComponent(uid, true));
  return measure(RUNS, () => viaBare(uid, variant === "simpleParser"));
}

async function main(): Promise<void> {
  const { uid, size } = await ensureMessage(USER, MAILBOX, bigMessage);
  console.log(
    `getMessage of a ${mb(size)} message with a ${mb(ATTACHMENT)} attachment (UID ${uid}): median of ${RUNS} runs after a warm-up, each variant in a fresh process.`,
  );
  console.log(
    "Memory: peak growth of JS heap + external memory (Buffers, large strings) during a run (sampled every ms and after each allocation of 1 MB or more); live: the same in one more run with garbage collected before each sample after such an allocation; peak RSS over the process before the first run.",
  );
  console.log(
    "The action's figures include its whole session (connect, login, FETCH, logout); so do the bare ones.",
  );
  console.log(
    "TLS on loopback (COMPRESS=DEFLATE for bare imapflow only); machine: 2 CPU cores shared with other work, so times are noisy.\n",
  );
  const variants = [
    ["getMessage, includeAttachments false", "metadata"],
    ["getMessage, includeAttachments true", "content"],
    ["bare imapflow, one FETCH of the source", "fetch"],
    ["one FETCH + simpleParser", "simpleParser"],
  ] as const;
  const results = variants.map(([, key]) => runChild(__filename, [key, String(uid)]));
  const reference = results[0].check as Check;
  const rows: string[][] = [
    [
      "variant",
      "median",
      "min",
      "peak memory +",
      "x message",
      "x attachment",
      "live peak +",
      "x message",
      "peak RSS +",
      "x attachment",
    ],
  ];
  variants.forEach(([name, key], i) => {
    const r = results[i];
    const check = r.check as Check;
    if (
      key !== "fetch" &&
      (check.size !== reference.size || check.checksum !== reference.checksum)
    ) {
      throw new Error(
        `${name} saw an attachment of ${check.size} bytes (${check.checksum}), not ${reference.size} (${reference.checksum})`,
      );
    }
    rows.push([
      name,
      ms(median(r.times)),
      ms(Math.min(...r.times)),
      mb(median(r.memoryPeaks)),
      ratio(median(r.memoryPeaks), size),
      ratio(median(r.memoryPeaks), ATTACHMENT),
      mb(r.livePeak),
      ratio(r.livePeak, size),
      mb(r.rssPeak),
      ratio(r.rssPeak, ATTACHMENT),
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
