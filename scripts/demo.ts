/**
 * The component for real against the local throwaway Dovecot (started by scripts/demo.sh):
 * seeds a few messages into a fresh mailbox of the `demo` user, then invokes the data source,
 * actions and the New Emails trigger through spectral's test harness and prints their outputs.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createConnection, createHarness } from "@prismatic-io/spectral/dist/testing";
import component from "../src";
import { imapConnection } from "../src/connections";
import { stateDir } from "../test/helpers";

const connection = createConnection(imapConnection, {
  host: process.env.IMAP_TEST_HOST ?? "127.0.0.1",
  port: process.env.IMAP_TEST_TLS_PORT ?? "10993",
  encryption: "tls",
  username: "demo",
  password: process.env.IMAP_TEST_PASSWORD ?? "imap-test-password",
  verifyCertificate: "true",
  caCertificate: fs.readFileSync(path.join(stateDir, "tls", "ca.crt"), "utf8"),
});
const harness = createHarness(component);
const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
const mailbox = `Demo/${stamp}/Projekte Grüße`;
const archive = `Demo/${stamp}/Archive`;

function message(
  subject: string,
  body: string,
  attachment?: { name: string; content: string },
): string {
  const head = [
    "From: Ada Lovelace <ada@example.com>",
    "To: Demo User <demo@example.com>",
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${stamp}.${Math.random().toString(36).slice(2)}@example.com>`,
    "MIME-Version: 1.0",
  ];
  if (!attachment)
    return [...head, "Content-Type: text/plain; charset=utf-8", "", body, ""].join("\r\n");
  return [
    ...head,
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "",
    body,
    "--b1",
    `Content-Type: text/plain; name="${attachment.name}"`,
    `Content-Disposition: attachment; filename="${attachment.name}"`,
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from(attachment.content).toString("base64"),
    "--b1--",
    "",
  ].join("\r\n");
}

/** JSON.stringify hands a replacer a Buffer's toJSON() ({ type, data: [...] }): the raw member is read from its holder. */
function printable(this: unknown, key: string, value: unknown): unknown {
  const raw: unknown = typeof this === "object" && this !== null ? Reflect.get(this, key) : value;
  if (!Buffer.isBuffer(raw)) return value;
  return `<${raw.length} bytes, sha256 ${createHash("sha256").update(raw).digest("hex")}>`;
}

function show(title: string, value: unknown): void {
  const text = JSON.stringify(value, printable, 2);
  process.stdout.write(
    `\n=== ${title}\n${text.length > 2500 ? `${text.slice(0, 2500)}\n... (${text.length} characters)` : text}\n`,
  );
}

/** A poll's delivered data and its result type, without the harness's sample payload around it. */
async function poll(trigger: { instanceState: Record<string, unknown> }): Promise<unknown> {
  const result = (await harness.trigger(
    "newEmails",
    undefined,
    { connection, mailbox },
    trigger,
  )) as {
    payload?: { body?: { data?: unknown } };
    resultType?: string;
  };
  return { resultType: result.resultType ?? null, data: result.payload?.body?.data ?? null };
}

async function main(): Promise<void> {
  const created = await harness.action("createMailbox", { connection, path: mailbox });
  show(`createMailbox "${mailbox}"`, created);
  await harness.action("createMailbox", { connection, path: archive });

  const trigger = { instanceState: {} as Record<string, unknown> };
  show("newEmails, first poll (records the position, delivers nothing)", await poll(trigger));

  const uids: number[] = [];
  for (const [subject, body, attachment] of [
    [
      "Invoice 2026-11",
      "Please find the invoice attached.",
      { name: "invoice.txt", content: "Total: 42.00 EUR\n" },
    ],
    ["Lunch on Friday?", "Shall we meet at noon?", undefined],
    ["Grüße aus Köln", "Schöne Grüße!", undefined],
  ] as const) {
    const appended = (await harness.action("appendMessage", {
      connection,
      mailbox,
      message: message(subject, body, attachment),
    })) as { data: { uid: number } };
    uids.push(appended.data.uid);
  }
  show("appendMessage x3 -> UIDs", uids);

  show("newEmails, next poll (the three new messages)", await poll(trigger));
  show("listMailboxes data source", await harness.dataSource("listMailboxes", { connection }));
  show("getStatus", await harness.action("getStatus", { connection, mailbox }));
  show(
    'searchMailbox subject="invoice"',
    await harness.action("searchMailbox", { connection, mailbox, subject: "invoice" }),
  );
  show(
    `getMessage uid=${uids[0]}`,
    await harness.action("getMessage", { connection, mailbox, uid: String(uids[0]) }),
  );
  show(
    `downloadAttachment uid=${uids[0]} filename=invoice.txt`,
    await harness.action("downloadAttachment", {
      connection,
      mailbox,
      uid: String(uids[0]),
      filename: "invoice.txt",
    }),
  );
  show(
    `addFlags uids=${uids[1]} \\Flagged`,
    await harness.action("addFlags", {
      connection,
      mailbox,
      uids: String(uids[1]),
      flags: ["\\Flagged"],
    }),
  );
  show(
    `moveMessage uids=${uids[1]} to ${archive}`,
    await harness.action("moveMessage", {
      connection,
      mailbox,
      uids: String(uids[1]),
      destination: archive,
    }),
  );
  show(
    `deleteMessage uid=${uids[2]}`,
    await harness.action("deleteMessage", { connection, mailbox, uid: String(uids[2]) }),
  );
  show(
    "getStatus after move and delete",
    await harness.action("getStatus", { connection, mailbox }),
  );
  show("newEmails, next poll (nothing new)", await poll(trigger));
  process.stdout.write("\nDemo finished: every step above ran against the local Dovecot.\n");
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.name}: ${err.message}\n`);
  process.exit(1);
});
