import type { MessageStructureObject } from "imapflow";
import { simpleParser } from "mailparser";
import { InputError } from "../src/errors";
import {
  failure,
  harness,
  legacyConnection,
  server,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
  withoutRecent,
} from "./helpers";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test35";
const LEGACY_USER = "test36";
const NOWHERE = tlsConnection(USER, { port: "1" });

type Stored = { mailbox: string; uid: number; uidValidity: string; messageId: string };

async function createDraft(connection: unknown, params: Record<string, unknown>): Promise<Stored> {
  const { data } = (await harness.action("createDraft", { connection, ...params })) as {
    data: Stored;
  };
  return data;
}

/** The stored draft as a separate client reads it: source, flags and the server's BODYSTRUCTURE. */
async function readBack(user: string, mailbox: string, uid: number) {
  return withDirectMailbox(user, mailbox, { readOnly: true }, async (client) => {
    const msg = await client.fetchOne(
      String(uid),
      { uid: true, source: true, flags: true, bodyStructure: true },
      { uid: true },
    );
    if (!msg || msg.uid !== uid || !msg.source || !msg.bodyStructure)
      throw new Error(`UID ${uid} not in ${mailbox}`);
    return {
      source: msg.source,
      flags: withoutRecent(msg.flags).sort(),
      structure: msg.bodyStructure,
    };
  });
}

function leaves(node: MessageStructureObject): MessageStructureObject[] {
  return node.childNodes ? node.childNodes.flatMap(leaves) : [node];
}

const PDF = Buffer.from("%PDF-1.4\n% not really a pdf\n\x00\x01\x02\xff", "latin1");
const CSV = Buffer.from("id;name\n1;Jürgen\n", "utf8");

describe("createDraft", () => {
  test("a draft with every field and two attachments parses back exactly, Bcc included, in the \\Drafts mailbox", async () => {
    const out = await createDraft(tlsConnection(USER), {
      from: "Alice Example <alice@example.com>",
      to: "Bob Example <bob@example.com>, dave@example.com",
      cc: "Carol <carol@example.com>",
      bcc: "audit@example.com",
      replyTo: "support@example.com",
      subject: "Rechnung 1234 für Müller",
      text: "Hello Bob,\n\nthe invoice is attached.\n",
      html: "<p>Hello Bob,</p><p>the invoice is attached.</p>",
      attachments: [
        {
          filename: "invoice.pdf",
          contentType: "application/pdf",
          content: PDF.toString("base64"),
        },
        { data: CSV, contentType: "text/csv", filename: "lines.csv" },
      ],
      inReplyTo: "<order-1234@example.com>",
      references: "<thread-1@example.com> <order-1234@example.com>",
      headers: [{ key: "X-Ticket", value: "T-1234" }],
    });
    expect(out.mailbox).toBe("Drafts");
    expect(out.messageId).toMatch(/^<[^<>\s]+@example\.com>$/);
    const stored = await readBack(USER, "Drafts", out.uid);
    expect(stored.flags).toEqual(["\\Draft", "\\Seen"]);
    const parsed = await simpleParser(stored.source);
    expect({
      from: parsed.from?.value,
      to: [parsed.to].flat().flatMap((a) => a?.value ?? []),
      cc: [parsed.cc].flat().flatMap((a) => a?.value ?? []),
      bcc: [parsed.bcc].flat().flatMap((a) => a?.value ?? []),
      replyTo: parsed.replyTo?.value,
      subject: parsed.subject,
      text: parsed.text,
      html: parsed.html,
      messageId: parsed.messageId,
      inReplyTo: parsed.inReplyTo,
      references: parsed.references,
      ticket: parsed.headers.get("x-ticket"),
      attachments: parsed.attachments.map((a) => [a.filename, a.contentType, a.content]),
    }).toEqual({
      from: [{ name: "Alice Example", address: "alice@example.com" }],
      to: [
        { name: "Bob Example", address: "bob@example.com" },
        { name: "", address: "dave@example.com" },
      ],
      cc: [{ name: "Carol", address: "carol@example.com" }],
      bcc: [{ name: "", address: "audit@example.com" }],
      replyTo: [{ name: "", address: "support@example.com" }],
      subject: "Rechnung 1234 für Müller",
      text: "Hello Bob,\n\nthe invoice is attached.\n",
      html: "<p>Hello Bob,</p><p>the invoice is attached.</p>",
      messageId: out.messageId,
      inReplyTo: "<order-1234@example.com>",
      references: ["<thread-1@example.com>", "<order-1234@example.com>"],
      ticket: "T-1234",
      attachments: [
        ["invoice.pdf", "application/pdf", PDF],
        ["lines.csv", "text/csv", CSV],
      ],
    });
    // The server's own view of the structure: a mixed message with the alternative body and two files.
    expect(stored.structure.type).toBe("multipart/mixed");
    expect(
      leaves(stored.structure).map((part) => [
        part.type,
        part.dispositionParameters?.filename ?? null,
      ]),
    ).toEqual([
      ["text/plain", null],
      ["text/html", null],
      ["application/pdf", "invoice.pdf"],
      ["text/csv", "lines.csv"],
    ]);
  });

  test("without SPECIAL-USE and UIDPLUS: stored in the mailbox named Drafts, UID found by Message-ID", async () => {
    const before = await withDirect(LEGACY_USER, async (client) => {
      const status = await client.status("Drafts", { uidNext: true, uidValidity: true });
      if (!status) throw new Error("status of Drafts failed");
      return { uidNext: status.uidNext, uidValidity: String(status.uidValidity) };
    });
    const out = await createDraft(legacyConnection(LEGACY_USER), {
      to: "bob@example.com",
      subject: "Legacy draft",
      text: "Plain body",
    });
    expect(out).toEqual({
      mailbox: "Drafts",
      uid: before.uidNext,
      uidValidity: before.uidValidity,
      messageId: expect.stringMatching(/^<.+>$/),
    });
    const stored = await readBack(LEGACY_USER, "Drafts", out.uid);
    const parsed = await simpleParser(stored.source);
    expect([parsed.messageId, parsed.subject, parsed.text, stored.flags]).toEqual([
      out.messageId,
      "Legacy draft",
      "Plain body\n",
      ["\\Draft", "\\Seen"],
    ]);
    // From defaults to the connection's user, which here is not an address: then there is none.
    expect(parsed.from).toBeUndefined();
  });

  test("an explicit mailbox is used; a missing one is a clear error naming it", async () => {
    const mailbox = uniqueName("drafts");
    await withDirect(USER, (client) => client.mailboxCreate(mailbox));
    const out = await createDraft(tlsConnection(USER), { mailbox, subject: "Only a subject" });
    expect(out.mailbox).toBe(mailbox);
    expect((await readBack(USER, mailbox, out.uid)).flags).toEqual(["\\Draft", "\\Seen"]);
    const err = await failure(() =>
      createDraft(tlsConnection(USER), { mailbox: `${mailbox}-missing`, subject: "x" }),
    );
    expect([err.code, err.message]).toEqual([
      "MAILBOX_NOT_FOUND",
      expect.stringContaining(`"${mailbox}-missing" does not exist`),
    ]);
  });

  test("no mailbox marked \\Drafts and none named Drafts: a clear error naming both, nothing stored", async () => {
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      { toClient: (line) => (/^\* LIST .*[" ]Drafts"?\r\n$/.test(line) ? "" : line) },
    );
    try {
      const err = await failure(() =>
        createDraft(legacyConnection(LEGACY_USER, { port: String(proxy.port) }), { subject: "x" }),
      );
      expect([err.code, err.message]).toEqual([
        "MAILBOX_NOT_FOUND",
        'There is no drafts mailbox: no mailbox is marked \\Drafts (special use) and none is named "Drafts". Give the mailbox to store the draft in (List Mailboxes shows every path), or create "Drafts" with Create Mailbox.',
      ]);
    } finally {
      await proxy.close();
    }
  });

  test.each([
    [{ to: "not an address", subject: "x" }, 'To: "not an address" is not an email address'],
    [{ cc: "bob@example.com, @nowhere", subject: "x" }, "Cc:"],
    [{ from: "alice@", subject: "x" }, "From:"],
    [{}, "The draft is empty"],
    [
      { to: "bob@example.com", attachments: [{ contentType: "text/plain", content: "aGk=" }] },
      "has no file name",
    ],
    [
      { to: "bob@example.com", attachments: [{ filename: "a.bin", content: "not base64!" }] },
      "is not base64",
    ],
    [{ to: "bob@example.com", attachments: "just text" }, "Attachments must be a list"],
    [
      { to: "bob@example.com", headers: [{ key: "Subject", value: "x" }] },
      "Subject is set by its own input",
    ],
    [
      { to: "bob@example.com", headers: [{ key: "X-A", value: "a\r\nBcc: evil@example.com" }] },
      "one line of text",
    ],
    [{ to: "bob@example.com", subject: "a\r\nBcc: evil@example.com" }, "one line of text"],
    [{ to: "bob@example.com", inReplyTo: "no-brackets-no-at" }, "is not a Message-ID"],
    [
      { to: "bob@example.com", inReplyTo: "<a@example.com> <b@example.com>" },
      "names 2 Message-IDs",
    ],
    [{ to: "bob@example.com", text: { body: "x" } }, "Text must be text"],
  ])("bad input %j is refused before connecting", async (params, message) => {
    const err = await failure(() => createDraft(NOWHERE, params));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(message);
  });
});
