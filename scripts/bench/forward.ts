/**
 * Benchmark of Create Reply Draft forwarding a message with a 20 MB attachment: the original's
 * attachment is fetched in its own FETCH (BINARY where offered) and the draft is composed and
 * appended. Prints median time, peak memory growth (JS heap + buffers) and peak RSS growth, with
 * their ratio to the attachment's size.
 *
 *   npx ts-node --transpile-only scripts/bench/forward.ts      (BENCH_RUNS_FORWARD=3 by default)
 */
import { randomBytes } from "node:crypto";
import { harness, tlsConnection, withDirect } from "../../test/helpers";
import type { Measured } from "../bench-helpers";
import {
  childMain,
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
const MAILBOX = "ForwardBench-20MB";
const DRAFTS = "ForwardBench-Drafts";
const ATTACHMENT = 20 * 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS_FORWARD ?? 3);

function original(): Buffer {
  const lines =
    randomBytes(ATTACHMENT)
      .toString("base64")
      .match(/.{1,76}/g) ?? [];
  const head = [
    "From: Alice Example <alice@example.com>",
    "To: Support <support@example.com>",
    "Subject: Scans",
    "Date: Tue, 24 Nov 2026 10:00:00 +0000",
    "Message-ID: <forward-bench@example.com>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="bench-boundary"',
    "",
    "--bench-boundary",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "The scans are attached.",
    "--bench-boundary",
    'Content-Type: application/octet-stream; name="scans.bin"',
    'Content-Disposition: attachment; filename="scans.bin"',
    "Content-Transfer-Encoding: base64",
    "",
  ].join("\r\n");
  return Buffer.from(`${head}\r\n${lines.join("\r\n")}\r\n--bench-boundary--\r\n`);
}

async function forward(uid: number): Promise<number> {
  const result = (await harness.action(
    "createReplyDraft",
    {
      connection: tlsConnection(USER),
      mailbox: MAILBOX,
      uid: String(uid),
      mode: "forward",
      to: "accounting@example.com",
      text: "For you.",
      draftsMailbox: DRAFTS,
    },
    { logger: silentLogger },
  )) as { data: { uid: number } };
  return result.data.uid > 0 ? ATTACHMENT : 0;
}

async function child([uidText]: string[]): Promise<Measured> {
  return measure(RUNS, () => forward(Number(uidText)));
}

async function main(): Promise<void> {
  const { uid, size } = await ensureMessage(USER, MAILBOX, original);
  await withDirect(USER, async (client) => {
    await client.mailboxDelete(DRAFTS).catch(() => undefined);
    await client.mailboxCreate(DRAFTS);
  });
  console.log(
    `createReplyDraft forward of a ${mb(size)} message with a ${mb(ATTACHMENT)} attachment (UID ${uid}): median of ${RUNS} runs after a warm-up, in a fresh process.\n`,
  );
  const r = runChild(__filename, [String(uid)]);
  printTable([
    ["variant", "median", "peak memory +", "x attachment", "peak RSS +", "x attachment"],
    [
      "createReplyDraft, mode forward",
      ms(median(r.times)),
      mb(median(r.memoryPeaks)),
      ratio(median(r.memoryPeaks), ATTACHMENT),
      mb(r.rssPeak),
      ratio(r.rssPeak, ATTACHMENT),
    ],
  ]);
  await withDirect(USER, (client) => client.mailboxDelete(DRAFTS));
}

if (!childMain(child)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
