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
import { seedMailbox, tlsConnection, withDirect } from "./helpers";

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

/** Runs one action of the bundle in a fresh process; returns its result as JSON. */
function runBundled(key: string, params: Record<string, unknown>): unknown {
  const script = `
    const { createHarness } = require(${JSON.stringify(require.resolve("@prismatic-io/spectral/dist/testing"))});
    const component = require(process.argv[1]).default;
    const quiet = () => undefined;
    const logger = { metric: quiet, trace: quiet, debug: quiet, info: quiet, log: quiet, warn: quiet, error: quiet };
    createHarness(component)
      .action(process.argv[2], JSON.parse(process.argv[3]), { logger })
      .then((result) => process.stdout.write(JSON.stringify(result)))
      .catch((err) => { process.stdout.write(JSON.stringify({ error: String(err.message) })); });
  `;
  const out = execFileSync(
    process.execPath,
    ["-e", script, path.join(outdir, "index.js"), key, JSON.stringify(params)],
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
});
