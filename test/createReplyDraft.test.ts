import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import MailComposer from "nodemailer/lib/mail-composer";
import { InputError } from "../src/errors";
import { fixture } from "./fixtures/fixtures";
import {
  failure,
  harness,
  legacyConnection,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
  withoutRecent,
} from "./helpers";

const USER = "test39";
const LEGACY_USER = "test40";
const NOWHERE = tlsConnection(USER, { port: "1" });

type Address = { name: string; address: string };
type Out = {
  mailbox: string;
  uid: number;
  uidValidity: string;
  messageId: string;
  subject: string;
  to: Address[];
  cc: Address[];
};

async function reply(connection: unknown, params: Record<string, unknown>): Promise<Out> {
  const { data } = (await harness.action("createReplyDraft", { connection, ...params })) as {
    data: Out;
  };
  return data;
}

/** Appends raw messages to a new mailbox; returns its path and their UIDs. */
async function seed(
  user: string,
  messages: (string | Buffer)[],
): Promise<{ mailbox: string; uids: number[] }> {
  const mailbox = uniqueName("reply");
  return withDirect(user, async (client) => {
    await client.mailboxCreate(mailbox);
    const uids: number[] = [];
    for (const message of messages) {
      const result = await client.append(mailbox, message);
      if (!result || !result.uid) throw new Error("append failed");
      uids.push(result.uid);
    }
    return { mailbox, uids };
  });
}

/** The draft as a separate client reads it back, parsed, with its flags. */
async function draft(user: string, out: Out) {
  return withDirectMailbox(user, out.mailbox, { readOnly: true }, async (client) => {
    const msg = await client.fetchOne(
      String(out.uid),
      { uid: true, source: true, flags: true },
      { uid: true },
    );
    if (!msg || msg.uid !== out.uid || !msg.source) throw new Error(`draft ${out.uid} not found`);
    const parsed = await simpleParser(msg.source);
    const list = (value: typeof parsed.to) => [value].flat().flatMap((a) => a?.value ?? []);
    return {
      flags: withoutRecent(msg.flags).sort(),
      from: list(parsed.from),
      to: list(parsed.to),
      cc: list(parsed.cc),
      subject: parsed.subject,
      messageId: parsed.messageId,
      inReplyTo: parsed.inReplyTo,
      references: parsed.references === undefined ? [] : [parsed.references].flat(),
      text: parsed.text,
      html: parsed.html,
      attachments: parsed.attachments,
    };
  });
}

function message(lines: string[], body: string): string {
  return [
    ...lines,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    body,
    "",
  ].join("\r\n");
}

const THIRD = message(
  [
    "From: Carol Smith <carol@example.com>",
    "To: Support <support@example.com>, Bob Example <bob@example.com>",
    "Cc: Dave <dave@example.com>, support@example.com",
    "Subject: RE: Re: Order 1234",
    "Date: Wed, 25 Nov 2026 09:15:00 +0000",
    "Message-ID: <third@example.com>",
    "In-Reply-To: <second@example.com>",
    "References: <first@example.com> <second@example.com>",
  ],
  "The third message.\r\n\r\nCarol",
);

describe("createReplyDraft", () => {
  test("reply and reply-all in a thread of three: threading, recipients without own address, one Re:, quoted original", async () => {
    const { mailbox, uids } = await seed(USER, [THIRD]);
    const connection = tlsConnection(USER);
    const single = await reply(connection, {
      mailbox,
      uid: String(uids[0]),
      mode: "reply",
      text: "Thanks, shipped today.",
      from: "Support <support@example.com>",
    });
    const all = await reply(connection, {
      mailbox,
      uid: String(uids[0]),
      mode: "replyAll",
      text: "Thanks all.",
      from: "Support <support@example.com>",
    });
    expect(single.mailbox).toBe("Drafts");
    expect([single.subject, single.to, single.cc]).toEqual([
      "Re: Order 1234",
      [{ name: "Carol Smith", address: "carol@example.com" }],
      [],
    ]);
    // support@example.com (the sender of the draft) is left out of reply-all.
    expect([all.to, all.cc]).toEqual([
      [
        { name: "Carol Smith", address: "carol@example.com" },
        { name: "Bob Example", address: "bob@example.com" },
      ],
      [{ name: "Dave", address: "dave@example.com" }],
    ]);
    const stored = await draft(USER, single);
    expect(stored).toMatchObject({
      flags: ["\\Draft", "\\Seen"],
      from: [{ name: "Support", address: "support@example.com" }],
      to: [{ name: "Carol Smith", address: "carol@example.com" }],
      subject: "Re: Order 1234",
      messageId: single.messageId,
      inReplyTo: "<third@example.com>",
      references: ["<first@example.com>", "<second@example.com>", "<third@example.com>"],
      text: "Thanks, shipped today.\n\nOn Wed, 25 Nov 2026 09:15:00 +0000, Carol Smith <carol@example.com> wrote:\n> The third message.\n>\n> Carol\n",
      html: false,
      attachments: [],
    });
    const storedAll = await draft(USER, all);
    expect([storedAll.to, storedAll.cc, storedAll.inReplyTo]).toEqual([
      all.to,
      all.cc,
      "<third@example.com>",
    ]);
    // The original is untouched: still one message, without \Seen.
    const flags = await withDirectMailbox(USER, mailbox, { readOnly: true }, async (client) => {
      const msg = await client.fetchOne(String(uids[0]), { uid: true, flags: true }, { uid: true });
      return msg ? withoutRecent(msg.flags) : null;
    });
    expect(flags).toEqual([]);
  });

  test("a reply goes to Reply-To when there is one; HTML of the original is quoted in a blockquote", async () => {
    const original = [
      "From: Newsletter <news@example.com>",
      "Reply-To: Help Desk <help@example.com>",
      "To: support@example.com",
      "Subject: Fwd: Question",
      "Date: Tue, 24 Nov 2026 10:00:00 +0000",
      "Message-ID: <with-reply-to@example.com>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/alternative; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Plain question?",
      "--b",
      "Content-Type: text/html; charset=utf-8",
      "",
      "<html><body><p>HTML <b>question</b>?</p></body></html>",
      "--b--",
      "",
    ].join("\r\n");
    const { mailbox, uids } = await seed(USER, [original]);
    const out = await reply(tlsConnection(USER), {
      mailbox,
      uid: String(uids[0]),
      html: "<p>Answer.</p>",
      text: "Answer.",
    });
    expect([out.subject, out.to]).toEqual([
      "Re: Fwd: Question",
      [{ name: "Help Desk", address: "help@example.com" }],
    ]);
    const stored = await draft(USER, out);
    expect(stored.text).toBe(
      "Answer.\n\nOn Tue, 24 Nov 2026 10:00:00 +0000, Newsletter <news@example.com> wrote:\n> Plain question?\n",
    );
    expect(stored.html).toContain(
      '<p>Answer.</p><br><br>\n<div>On Tue, 24 Nov 2026 10:00:00 +0000, Newsletter &lt;news@example.com&gt; wrote:</div>\n<blockquote type="cite"',
    );
    expect(stored.html).toContain("><p>HTML <b>question</b>?</p></blockquote>");
  });

  test("a non-UTF-8 original: the attribution and the quote are decoded from ISO-8859-1", async () => {
    const { mailbox, uids } = await seed(USER, [fixture("latin1.eml")]);
    const out = await reply(tlsConnection(USER), { mailbox, uid: String(uids[0]), text: "Danke!" });
    expect([out.subject, out.to]).toEqual([
      "Re: Grüße aus Köln",
      [{ name: "Jürgen Müller", address: "juergen@example.de" }],
    ]);
    const stored = await draft(USER, out);
    expect(stored.text).toBe(
      "Danke!\n\nOn Mon, 02 Nov 2026 13:00:00 +0100, Jürgen Müller <juergen@example.de> wrote:\n> Grüße aus Köln!\n> Ça coûte 5 £, ½ Preis.\n",
    );
    expect([stored.inReplyTo, stored.references]).toEqual([
      "<latin1@example.de>",
      ["<latin1@example.de>"],
    ]);
  });

  test("an original without Message-ID: no In-Reply-To, References from its In-Reply-To; on a server without UIDPLUS", async () => {
    const original = message(
      [
        "From: alice@example.com",
        "To: support@example.com",
        "Subject: No id",
        "Date: Tue, 24 Nov 2026 10:00:00 +0000",
        "In-Reply-To: <parent@example.com>",
      ],
      "Hello",
    );
    const { mailbox, uids } = await seed(LEGACY_USER, [original]);
    const out = await reply(legacyConnection(LEGACY_USER), {
      mailbox,
      uid: String(uids[0]),
      text: "Hi",
    });
    expect(out.mailbox).toBe("Drafts");
    const stored = await draft(LEGACY_USER, out);
    expect([stored.subject, stored.inReplyTo, stored.references, stored.to]).toEqual([
      "Re: No id",
      undefined,
      ["<parent@example.com>"],
      [{ name: "", address: "alice@example.com" }],
    ]);
  });

  test("forward keeps the attachments byte for byte, with the forwarded headers and the given recipients", async () => {
    const pdf = randomBytes(300_000);
    const zip = randomBytes(1_000);
    const composed = await new MailComposer({
      from: "Alice Example <alice@example.com>",
      to: "support@example.com",
      subject: "Invoice 1234",
      date: new Date("2026-11-24T10:00:00Z"),
      messageId: "<invoice-1234@example.com>",
      text: "The invoice is attached.",
      attachments: [
        { filename: "invoice.pdf", contentType: "application/pdf", content: pdf },
        { filename: "data.zip", contentType: "application/zip", content: zip },
      ],
    })
      .compile()
      .build();
    const { mailbox, uids } = await seed(USER, [composed]);
    const out = await reply(tlsConnection(USER), {
      mailbox,
      uid: String(uids[0]),
      mode: "forward",
      to: "accounting@example.com",
      text: "For you.",
    });
    expect([out.subject, out.to, out.cc]).toEqual([
      "Fwd: Invoice 1234",
      [{ name: "", address: "accounting@example.com" }],
      [],
    ]);
    const stored = await draft(USER, out);
    expect(
      stored.attachments.map((a) => [
        a.filename,
        a.contentType,
        a.content.equals(a.filename === "invoice.pdf" ? pdf : zip),
      ]),
    ).toEqual([
      ["invoice.pdf", "application/pdf", true],
      ["data.zip", "application/zip", true],
    ]);
    expect(stored.text).toContain(
      "For you.\n\n---------- Forwarded message ----------\nFrom: Alice Example <alice@example.com>\n",
    );
    expect(stored.text).toContain(
      "Subject: Invoice 1234\nTo: support@example.com\n\nThe invoice is attached.",
    );
    expect([stored.inReplyTo, stored.references]).toEqual([
      undefined,
      ["<invoice-1234@example.com>"],
    ]);
    // Without attachments when asked.
    const bare = await reply(tlsConnection(USER), {
      mailbox,
      uid: String(uids[0]),
      mode: "forward",
      includeAttachments: "false",
      quoteOriginal: "false",
      text: "FYI",
    });
    const bareStored = await draft(USER, bare);
    expect([bareStored.attachments.length, bareStored.text, bareStored.to]).toEqual([
      0,
      "FYI\n",
      [],
    ]);
  });

  test("forward of an HTML message with inline images: the images keep their Content-ID, so the HTML still shows them", async () => {
    const { mailbox, uids } = await seed(USER, [fixture("inline-images.eml")]);
    const out = await reply(tlsConnection(USER), {
      mailbox,
      uid: String(uids[0]),
      mode: "forward",
      html: "<p>Look</p>",
    });
    const stored = await draft(USER, out);
    expect(
      stored.attachments.map((a) => [a.filename ?? null, a.contentType, a.cid, a.content.length]),
    ).toEqual([
      ["logo.png", "image/png", "logo@example.com", 70],
      ["spacer.gif", "image/gif", "spacer@example.com", 42],
    ]);
    // mailparser resolves a cid: link only to a part of the same message with that Content-ID.
    const logo = stored.attachments[0]?.content.toString("base64");
    expect(stored.html).toContain(`<p>See the logo: <img src="data:image/png;base64,${logo}">`);
  });

  test("a reply to an HTML-only message in ISO-8859-1: the text quote is the HTML's text rendering, decoded", async () => {
    const source = fs.readFileSync(path.join(__dirname, "fixtures", "replies", "outlook-html.eml"));
    const { mailbox, uids } = await seed(USER, [source]);
    const out = await reply(tlsConnection(USER), {
      mailbox,
      uid: String(uids[0]),
      text: "Thanks.",
    });
    const stored = await draft(USER, out);
    expect(stored.text).toMatch(
      /^Thanks\.\n\nOn Tue, 24 Nov 2026 12:00:00 \+0000, Carol Smith <carol@example\.com> wrote:\n> Approved, go ahead\. Schönen Tag!\n/,
    );
    expect(stored.text).toContain("> Can you approve order 1234?");
    expect(stored.html).toBe(false);
  });

  test("a UID that names no message is a clear error; nothing is stored", async () => {
    const { mailbox } = await seed(USER, [THIRD]);
    const err = await failure(() => reply(tlsConnection(USER), { mailbox, uid: "999" }));
    expect([err.code, err.message]).toEqual([
      "MESSAGE_NOT_FOUND",
      `There is no message with UID 999 in mailbox "${mailbox}": it was deleted or moved, or the UID belongs to another mailbox. Search the mailbox again for its current UIDs.`,
    ]);
  });

  test.each([
    [{ uid: "1,2" }, "is not a message UID"],
    [{ uid: "1", mode: "replyToAll" }, "Mode must be reply, replyAll or forward"],
    [{ uid: "1", mode: "forward", to: "not-an-address" }, "is not an email address"],
    [{ uid: "1", excludeAddresses: ["me@"] }, "Exclude Addresses"],
  ])("bad input %j is refused before connecting", async (params, text) => {
    const err = await failure(() => reply(NOWHERE, { mailbox: "INBOX", ...params }));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(text);
  });
});
