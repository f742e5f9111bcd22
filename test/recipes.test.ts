/**
 * The recipes of documentation.md, run step by step exactly as they are written there: each step
 * is one invocation of the component, with the inputs the recipe shows, and the mailboxes are
 * read back with a separate client.
 */
import { silentLogger } from "../scripts/bench-helpers";
import { harness, rfc822, tlsConnection, uniqueName, withDirect } from "./helpers";

const USER = "test30";

type Message = {
  uid: number;
  envelope: { subject: string };
  attachments?: { partId: string; filename: string | null; contentType: string }[];
};

/** A message with one PDF attachment, as an invoice arrives. */
function invoice(number: string, pdf: Buffer): string {
  return [
    "From: Billing <billing@supplier.example>",
    "To: invoices@example.com",
    `Subject: Invoice ${number}`,
    `Message-ID: <${uniqueName("invoice")}@supplier.example>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Please find invoice ${number} attached.`,
    "--b",
    `Content-Type: application/pdf; name="invoice-${number}.pdf"`,
    `Content-Disposition: attachment; filename="invoice-${number}.pdf"`,
    "Content-Transfer-Encoding: base64",
    "",
    pdf.toString("base64"),
    "--b--",
    "",
  ].join("\r\n");
}

async function subjectsIn(mailbox: string): Promise<string[]> {
  return withDirect(USER, async (client) => {
    const lock = await client.getMailboxLock(mailbox, { readOnly: true });
    try {
      if (client.mailbox && client.mailbox.exists === 0) return [];
      const rows = await client.fetchAll("1:*", { envelope: true }, { uid: true });
      return rows.map((row) => row.envelope?.subject ?? "").sort();
    } finally {
      lock.release();
    }
  });
}

describe("recipe: when an invoice arrives, save the PDF and move the mail to Processed", () => {
  test("every invoice's PDF is saved once and its mail ends in Processed; other mail stays", async () => {
    const connection = tlsConnection(USER);
    const inbox = uniqueName("Invoices");
    const processed = `${inbox}/Processed`;
    await withDirect(USER, (client) => client.mailboxCreate(inbox));
    const instanceState: Record<string, unknown> = {};
    const poll = async () =>
      (
        (await harness.trigger(
          "newEmails",
          {},
          { connection, mailbox: inbox, fetchContent: "true" },
          { instanceState, logger: silentLogger },
        )) as { payload: { body: { data: { messages: Message[] } } } }
      ).payload.body.data.messages;

    await poll(); // deploy: the first poll records where the mailbox stands
    const pdfs = {
      "2026-001": Buffer.from("%PDF-1.4 one"),
      "2026-002": Buffer.from("%PDF-1.4 two"),
    };
    await withDirect(USER, async (client) => {
      await client.append(inbox, invoice("2026-001", pdfs["2026-001"]));
      await client.append(inbox, rfc822({ subject: "Lunch on Friday?" }));
      await client.append(inbox, invoice("2026-002", pdfs["2026-002"]));
    });

    const saved: Record<string, Buffer> = {};
    for (const message of await poll()) {
      // Step 2 (branch): only messages with a PDF attachment
      const pdf = message.attachments?.find((item) => item.contentType === "application/pdf");
      if (!pdf) continue;
      // Step 3: download the PDF before the move (the UID belongs to the inbox)
      const file = (await harness.action("downloadAttachment", {
        connection,
        mailbox: inbox,
        uid: String(message.uid),
        partId: pdf.partId,
      })) as { data: Buffer; contentType: string };
      saved[pdf.filename ?? ""] = file.data; // stands in for the Save File step
      // Step 4: make sure Processed exists (created: false from the second time on)
      await harness.action("createMailbox", { connection, path: processed });
      // Step 5: move the mail
      await harness.action("moveMessage", {
        connection,
        mailbox: inbox,
        uids: String(message.uid),
        destination: processed,
      });
    }

    expect(saved).toEqual({
      "invoice-2026-001.pdf": pdfs["2026-001"],
      "invoice-2026-002.pdf": pdfs["2026-002"],
    });
    expect(await subjectsIn(processed)).toEqual(["Invoice 2026-001", "Invoice 2026-002"]);
    expect(await subjectsIn(inbox)).toEqual(["Lunch on Friday?"]);
    // the next poll delivers nothing again: each invoice ran once
    expect(await poll()).toEqual([]);
  });
});

describe("recipe: archive everything older than 90 days in batches", () => {
  test("a loop of search (before, limit) and move empties the old mail and keeps the recent", async () => {
    const connection = tlsConnection(USER);
    const mailbox = uniqueName("Old");
    const archive = `${mailbox}-Archive`;
    const now = Date.now();
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(mailbox);
      await client.mailboxCreate(archive);
      for (let i = 0; i < 7; i += 1) {
        // 100 to 106 days old
        const date = new Date(now - (100 + i) * 24 * 3600 * 1000);
        await client.append(mailbox, rfc822({ subject: `old ${i}` }), [], date);
      }
      await client.append(mailbox, rfc822({ subject: "recent" }), [], new Date(now - 3600 * 1000));
    });
    const before = new Date(now - 90 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    let batches = 0;
    for (;;) {
      // Step 1: the next batch (no cursor: the moved messages are gone from the mailbox)
      const page = (await harness.action("searchMailbox", {
        connection,
        mailbox,
        before,
        limit: "3",
      })) as { data: { messages: { uid: number }[] } };
      if (page.data.messages.length === 0) break;
      // Step 2: move the batch
      await harness.action("moveMessage", {
        connection,
        mailbox,
        uids: page.data.messages.map((message) => message.uid).join(","),
        destination: archive,
      });
      batches += 1;
    }
    expect(batches).toBe(3);
    expect(await subjectsIn(mailbox)).toEqual(["recent"]);
    expect(await subjectsIn(archive)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `old ${i}`));
  });
});
