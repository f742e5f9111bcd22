/**
 * The bundle as prism uploads it: dist/index.js built by scripts/build.mjs, loaded in a fresh
 * node process with nothing of src/, and run against the real server. What the build defers to
 * first use (spectral's integration helpers, libmime's double-byte tables) must still work when
 * a step needs it: here a GB2312 subject and body, decoded through libmime.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import iconv from "iconv-lite";
import { rfc822, seedMailbox, tlsConnection, withDirect } from "./helpers";

const USER = "test31";
const root = path.join(__dirname, "..");
let outdir = "";

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), "imap-bundle-"));
  execFileSync(process.execPath, [path.join(root, "scripts", "build.mjs"), "--outdir", outdir], {
    stdio: "pipe",
  });
}, 120_000);

afterAll(() => {
  fs.rmSync(outdir, { recursive: true, force: true });
});

/** Runs one action (or, with `trigger`, one poll) of the bundle in a fresh process; returns its result as JSON. */
function runBundled(
  key: string,
  params: Record<string, unknown>,
  instanceState?: Record<string, unknown>,
): unknown {
  const script = `
    const { createHarness } = require(${JSON.stringify(require.resolve("@prismatic-io/spectral/dist/testing"))});
    const component = require(process.argv[1]).default;
    const quiet = () => undefined;
    const logger = { metric: quiet, trace: quiet, debug: quiet, info: quiet, log: quiet, warn: quiet, error: quiet };
    const harness = createHarness(component);
    const params = JSON.parse(process.argv[3]);
    const instanceState = process.argv[4] ? JSON.parse(process.argv[4]) : undefined;
    (instanceState
      ? harness.trigger(process.argv[2], {}, params, { logger, instanceState })
      : harness.action(process.argv[2], params, { logger }))
      .then((result) => process.stdout.write(JSON.stringify(instanceState ? { result, instanceState } : result)))
      .catch((err) => { process.stdout.write(JSON.stringify({ error: String(err.message) })); });
  `;
  const out = execFileSync(
    process.execPath,
    [
      "-e",
      script,
      path.join(outdir, "index.js"),
      key,
      JSON.stringify(params),
      instanceState ? JSON.stringify(instanceState) : "",
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out);
}

test("the built bundle alone loads and runs steps against the server", async () => {
  const { path: mailbox } = await seedMailbox(USER, { prefix: "Bundle", count: 0 });
  const subject = "发票已到";
  const body = "请查收本月发票。";
  const raw = Buffer.concat([
    Buffer.from(
      [
        "From: a@example.com",
        "To: b@example.com",
        `Subject: =?GB2312?B?${iconv.encode(subject, "gb2312").toString("base64")}?=`,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=GB2312",
        "Content-Transfer-Encoding: 8bit",
        "",
        "",
      ].join("\r\n"),
    ),
    iconv.encode(`${body}\r\n`, "gb2312"),
  ]);
  const appended = await withDirect(USER, (client) => client.append(mailbox, raw));
  const uid = appended ? appended.uid : 0;
  const connection = tlsConnection(USER);

  const status = runBundled("getStatus", { connection, mailbox }) as {
    data: { path: string; messages: number };
  };
  expect(status.data).toMatchObject({ path: mailbox, messages: 1 });
  const message = runBundled("getMessage", { connection, mailbox, uid: String(uid) }) as {
    data: { uid: number; subject: string; text: string };
  };
  expect(message.data).toMatchObject({ uid, subject, text: `${body}\n` });
  // spectral's batch-trigger wrappers, the parser with replyText, and the composer (loaded on first use)
  type Poll = {
    result: { payload: { body: { data: { uid: number; replyText: string }[] } } };
    instanceState: Record<string, unknown>;
  };
  const poll = (state: Record<string, unknown>) =>
    runBundled("newEmailsBatched", { connection, mailbox, fetchContent: "true" }, state) as Poll;
  const first = poll({});
  expect(first.result.payload.body.data).toEqual([]);
  const next = await withDirect(USER, (client) =>
    client.append(mailbox, rfc822({ subject: "Second", body: "Thanks!\r\n\r\n> quoted" })),
  );
  const second = poll(first.instanceState);
  expect(second.result.payload.body.data).toMatchObject([
    { uid: next ? next.uid : 0, replyText: "Thanks!" },
  ]);
  const draft = runBundled("createDraft", {
    connection,
    mailbox,
    to: "c@example.com",
    subject: "Draft from the bundle",
    text: "Hello",
  }) as { data: { mailbox: string; uid: number } };
  expect(draft.data.mailbox).toBe(mailbox);
  const subjects = await withDirect(USER, async (client) => {
    const lock = await client.getMailboxLock(mailbox, { readOnly: true });
    try {
      const rows = await client.fetchAll("1:*", { envelope: true }, { uid: true });
      return rows.map((row) => row.envelope?.subject);
    } finally {
      lock.release();
    }
  });
  expect(subjects).toEqual([subject, "Second", "Draft from the bundle"]);
});
