import { randomBytes } from "node:crypto";
import { getMessage as getMessageAction } from "../src/actions/getMessage";
import { ImapError, InputError } from "../src/errors";
import type { ParsedAttachment } from "../src/parseMessage";
import type { FixtureName } from "./fixtures/fixtures";
import {
  appendAll,
  appendFixtures,
  bytes,
  downloadDirect,
  embeddedMessage,
  FIXTURES,
  fixture,
  mimeMessage,
  readBack,
  sha256,
  structureParts,
} from "./fixtures/fixtures";
import {
  failure,
  flagsByUid,
  harness,
  legacyConnection,
  rfc822,
  tlsConnection,
  withDirect,
} from "./helpers";

const USER = "test20";
const LEGACY_USER = "test21";

/** An attachment as the JSON output has it: the content as base64. */
type Attachment = Omit<ParsedAttachment, "content"> & { content: string | null };
type Message = Record<string, unknown> & {
  flags: string[];
  attachments: Attachment[];
  headers: Record<string, unknown>;
  text: string | null;
  html: string | null;
};

async function getMessage(
  params: Record<string, unknown>,
  connection = tlsConnection(USER),
): Promise<Message> {
  const { data } = (await harness.action("getMessage", { connection, ...params })) as {
    data: Message;
  };
  // exactly what survives JSON: no Buffer, Date, Set or bigint inside
  expect(JSON.parse(JSON.stringify(data))).toEqual(data);
  return data;
}

function attachment(
  fields: Partial<Attachment> & { partId: string; data: Buffer },
  included: boolean,
): Attachment {
  const { data, ...rest } = fields;
  return {
    filename: null,
    contentType: "application/octet-stream",
    contentId: null,
    inline: false,
    tooLarge: false,
    ...rest,
    size: data.length,
    checksum: sha256(data),
    content: included ? data.toString("base64") : null,
  };
}

/** No message of the mailbox carries \Seen: reading must not mark anything read. */
async function expectNothingSeen(mailbox: string): Promise<void> {
  const flags = await flagsByUid(USER, mailbox);
  expect(Object.keys(flags).length).toBeGreaterThan(0);
  expect(Object.values(flags).filter((list) => list.includes("\\Seen"))).toEqual([]);
}

let box: { mailbox: string; uids: Record<FixtureName, number> };

beforeAll(async () => {
  box = await appendFixtures(USER);
});

describe("getMessage", () => {
  test("8-bit UTF-8, RFC 2047 words and every field of the output, exactly", async () => {
    const flagged = await appendAll(USER, { message: fixture("utf8-8bit.eml") }, [
      "\\Flagged",
      "$Label1",
    ]);
    const uid = flagged.uids.message;
    const data = await getMessage({ mailbox: flagged.mailbox, uid: String(uid) });
    const direct = await readBack(USER, flagged.mailbox, uid);
    const { uidValidity } = await withDirect(USER, async (client) => {
      const status = await client.status(flagged.mailbox, { uidValidity: true });
      if (!status) throw new Error("status failed");
      return { uidValidity: String(status.uidValidity) };
    });
    expect({ ...data, flags: [...data.flags].sort() }).toEqual({
      mailbox: flagged.mailbox,
      uidValidity,
      uid,
      flags: ["$Label1", "\\Flagged"],
      size: fixture("utf8-8bit.eml").length,
      internalDate: (direct.internalDate as Date).toISOString(),
      subject: "Résumé – 日本語 ✓",
      date: "2026-11-02T14:00:00.000Z",
      messageId: "<utf8@example.com>",
      inReplyTo: "<parent@example.com>",
      references: ["<root@example.com>", "<parent@example.com>"],
      from: [{ name: "Alice Example", address: "alice@example.com" }],
      to: [
        { name: "Bob Example", address: "bob@example.com" },
        { name: "Élodie", address: "elodie@example.fr" },
      ],
      // the members of the group "Team:", flattened
      cc: [
        { name: "", address: "carol@example.com" },
        { name: "Dave", address: "dave@example.com" },
      ],
      bcc: [{ name: "", address: "secret@example.com" }],
      replyTo: [{ name: "Support, Example", address: "support@example.com" }],
      headers: {
        "return-path": "<alice@example.com>",
        received: [
          "from mx1.example.com by imap.example.com; Mon, 02 Nov 2026 14:00:01 +0000",
          "from client.example.com by mx1.example.com; Mon, 02 Nov 2026 14:00:00 +0000",
        ],
        from: "Alice Example <alice@example.com>",
        to: "Bob Example <bob@example.com>, Élodie <elodie@example.fr>",
        cc: "Team: carol@example.com, Dave <dave@example.com>;",
        bcc: "secret@example.com",
        "reply-to": '"Support, Example" <support@example.com>',
        subject: "Résumé – 日本語 ✓",
        date: "Mon, 02 Nov 2026 14:00:00 +0000",
        "message-id": "<utf8@example.com>",
        "in-reply-to": "<parent@example.com>",
        references: "<root@example.com> <parent@example.com>",
        "x-tag": ["first", "zwölf"],
        "x-long": "a folded header value",
        "x-raw": "Grüße, unencoded",
        "mime-version": "1.0",
        "content-type": 'multipart/alternative; boundary="alt"',
      },
      text: "Résumé – 日本語 ✓\nZweite Zeile.",
      replyText: "Résumé – 日本語 ✓\nZweite Zeile.",
      html: "<p>Résumé – <b>日本語</b> ✓</p>",
      attachments: [],
    });
    expect(data.flags).not.toContain("\\Seen");
    // read back: the flags are unchanged (\Recent is the server's, per session)
    expect((await flagsByUid(USER, flagged.mailbox))[uid]).toEqual(["$Label1", "\\Flagged"]);
  });

  test("an ISO-8859-1 body in 8 bit and an ISO-8859-1 encoded subject and sender come out as Unicode", async () => {
    const data = await getMessage({ mailbox: box.mailbox, uid: String(box.uids["latin1.eml"]) });
    expect(data).toMatchObject({
      subject: "Grüße aus Köln",
      from: [{ name: "Jürgen Müller", address: "juergen@example.de" }],
      // no Reply-To header: a reply goes to From, as in the envelope
      replyTo: [{ name: "Jürgen Müller", address: "juergen@example.de" }],
      date: "2026-11-02T12:00:00.000Z",
      text: "Grüße aus Köln!\nÇa coûte 5 £, ½ Preis.\n",
      html: null,
      attachments: [],
    });
    expect(data.headers["content-type"]).toBe("text/plain; charset=ISO-8859-1");
  });

  test("inline images: cid links stay in the HTML as the message has it, images listed as inline with their Content-ID", async () => {
    const data = await getMessage({
      mailbox: box.mailbox,
      uid: String(box.uids["inline-images.eml"]),
      includeAttachments: "true",
    });
    expect(data.text).toBe("See the logo.");
    // untrusted HTML is returned unchanged, script included: no sanitising, no data: URLs
    expect(data.html).toBe(
      '<html><body><p>See the logo: <img src="cid:logo@example.com"><img src="cid:spacer@example.com"></p><script>alert(1)</script></body></html>',
    );
    expect(data.attachments).toEqual([
      attachment(
        {
          partId: "2",
          filename: "logo.png",
          contentType: "image/png",
          contentId: "logo@example.com",
          inline: true,
          data: bytes.png,
        },
        true,
      ),
      // no Content-Disposition, but a Content-ID inside multipart/related: shown within the HTML
      attachment(
        {
          partId: "3",
          filename: "spacer.gif",
          contentType: "image/gif",
          contentId: "spacer@example.com",
          inline: true,
          data: bytes.gif,
        },
        true,
      ),
    ]);
  });

  test("nested multiparts: text and HTML from the alternatives, attachments from every level with their IMAP part numbers", async () => {
    const data = await getMessage({
      mailbox: box.mailbox,
      uid: String(box.uids["nested-multipart.eml"]),
      includeAttachments: "true",
    });
    expect(data.text).toBe("Plain version.");
    expect(data.html).toBe('<p>HTML version <img src="cid:photo@example.com"></p>');
    expect(data.attachments).toEqual([
      attachment(
        {
          partId: "1.2.2",
          filename: "photo.jpg",
          contentType: "image/jpeg",
          contentId: "photo@example.com",
          inline: true,
          data: bytes.jpg,
        },
        true,
      ),
      attachment(
        { partId: "2", filename: "archive.zip", contentType: "application/zip", data: bytes.zip },
        true,
      ),
      // quoted-printable, soft line break joined, UTF-8 bytes untouched
      attachment(
        { partId: "3", filename: "table.csv", contentType: "text/csv", data: bytes.csv },
        true,
      ),
    ]);
  });

  test("message/rfc822 attachments stay one attachment each, their content the attached message byte for byte", async () => {
    const data = await getMessage({
      mailbox: box.mailbox,
      uid: String(box.uids["forwarded.eml"]),
      includeAttachments: "true",
    });
    expect(data.text).toBe("Forwarding two messages.");
    expect(data.html).toBeNull();
    expect(data.attachments).toEqual([
      attachment(
        {
          partId: "2",
          filename: "original.eml",
          contentType: "message/rfc822",
          data: embeddedMessage("Carol"),
        },
        true,
      ),
      attachment(
        { partId: "3", contentType: "message/rfc822", inline: true, data: embeddedMessage("Dave") },
        true,
      ),
      attachment(
        { partId: "4", filename: "after.png", contentType: "image/png", data: bytes.png },
        true,
      ),
    ]);
  });

  test("a message that is only an attachment: part 1, no text, no HTML", async () => {
    const data = await getMessage({
      mailbox: box.mailbox,
      uid: String(box.uids["attachment-only.eml"]),
      includeAttachments: "true",
    });
    expect(data).toMatchObject({ subject: "Scan", text: null, html: null });
    expect(data.attachments).toEqual([
      attachment(
        { partId: "1", filename: "report.pdf", contentType: "application/pdf", data: bytes.pdf },
        true,
      ),
    ]);
  });

  test("RFC 2231 file names (Grüße.txt, a continued Übersicht 2026.pdf) are decoded; a generic type is named by the file's extension", async () => {
    const data = await getMessage({
      mailbox: box.mailbox,
      uid: String(box.uids["rfc2231.eml"]),
      includeAttachments: "true",
    });
    expect(data.text).toBeNull();
    expect(data.attachments).toEqual([
      attachment(
        { partId: "1", filename: "Grüße.txt", contentType: "text/plain", data: bytes.gruesse },
        true,
      ),
      attachment(
        {
          partId: "2",
          filename: "Übersicht 2026.pdf",
          contentType: "application/pdf",
          data: bytes.pdf,
        },
        true,
      ),
      attachment(
        {
          partId: "3",
          filename: "data.csv",
          contentType: "text/csv",
          data: Buffer.from("a,b\r\n1,2"),
        },
        true,
      ),
      attachment(
        {
          partId: "4",
          filename: "data.csv",
          contentType: "text/csv",
          data: Buffer.from("c,d\r\n3,4"),
        },
        true,
      ),
    ]);
  });

  test("without includeAttachments: metadata, size and checksum, no content", async () => {
    const data = await getMessage({
      mailbox: box.mailbox,
      uid: String(box.uids["nested-multipart.eml"]),
    });
    expect(data.attachments).toEqual([
      attachment(
        {
          partId: "1.2.2",
          filename: "photo.jpg",
          contentType: "image/jpeg",
          contentId: "photo@example.com",
          inline: true,
          data: bytes.jpg,
        },
        false,
      ),
      attachment(
        { partId: "2", filename: "archive.zip", contentType: "application/zip", data: bytes.zip },
        false,
      ),
      attachment(
        { partId: "3", filename: "table.csv", contentType: "text/csv", data: bytes.csv },
        false,
      ),
    ]);
  });

  test("every partId is the server's part number: BODYSTRUCTURE has it, and imapflow's download of it has the same bytes", async () => {
    for (const name of FIXTURES) {
      const uid = box.uids[name];
      const data = await getMessage({ mailbox: box.mailbox, uid: String(uid) });
      const structure = (await readBack(USER, box.mailbox, uid)).bodyStructure;
      if (!structure) throw new Error(`no BODYSTRUCTURE for ${name}`);
      const parts = structureParts(structure);
      for (const item of data.attachments) {
        const node = parts.get(item.partId);
        expect({ name, partId: item.partId, type: node?.type }).toEqual({
          name,
          partId: item.partId,
          type:
            item.filename === "Übersicht 2026.pdf" ? "application/octet-stream" : item.contentType,
        });
        const downloaded = await downloadDirect(USER, box.mailbox, uid, item.partId);
        expect({
          name,
          partId: item.partId,
          size: downloaded.length,
          checksum: sha256(downloaded),
        }).toEqual({
          name,
          partId: item.partId,
          size: item.size,
          checksum: item.checksum,
        });
      }
    }
  });

  test("maxAttachmentSize: an attachment of exactly that size is included, one byte more is tooLarge", async () => {
    const exact = randomBytes(1000);
    const { mailbox, uids } = await appendAll(USER, {
      message: mimeMessage("limits", [
        { type: "application/octet-stream", filename: "exact.bin", data: exact },
        { type: "text/plain", filename: "small.txt", data: Buffer.from("small") },
      ]),
    });
    const at = await getMessage({
      mailbox,
      uid: String(uids.message),
      includeAttachments: "true",
      maxAttachmentSize: "1000",
    });
    expect(at.attachments).toEqual([
      attachment({ partId: "2", filename: "exact.bin", data: exact }, true),
      attachment(
        {
          partId: "3",
          filename: "small.txt",
          contentType: "text/plain",
          data: Buffer.from("small"),
        },
        true,
      ),
    ]);
    const below = await getMessage({
      mailbox,
      uid: String(uids.message),
      includeAttachments: "true",
      maxAttachmentSize: "999",
    });
    expect(below.attachments).toEqual([
      attachment({ partId: "2", filename: "exact.bin", tooLarge: true, data: exact }, false),
      attachment(
        {
          partId: "3",
          filename: "small.txt",
          contentType: "text/plain",
          data: Buffer.from("small"),
        },
        true,
      ),
    ]);
    const none = await getMessage({
      mailbox,
      uid: String(uids.message),
      includeAttachments: "true",
      maxAttachmentSize: "0",
    });
    expect(none.attachments.map((item) => [item.content, item.tooLarge])).toEqual([
      [null, true],
      [null, true],
    ]);
  });

  test("an attachment above the default 10 MB: content null, tooLarge, exact size and checksum; the others still included", async () => {
    const big = randomBytes(10 * 1024 * 1024 + 1);
    const { mailbox, uids } = await appendAll(USER, {
      message: mimeMessage("big", [
        { type: "application/octet-stream", filename: "big.bin", data: big },
        { type: "image/png", filename: "after.png", data: bytes.png },
      ]),
    });
    const data = await getMessage({
      mailbox,
      uid: String(uids.message),
      includeAttachments: "true",
    });
    expect(data.text).toBe("Body of big");
    expect(data.attachments).toEqual([
      attachment({ partId: "2", filename: "big.bin", tooLarge: true, data: big }, false),
      attachment(
        { partId: "3", filename: "after.png", contentType: "image/png", data: bytes.png },
        true,
      ),
    ]);
    await expectNothingSeen(mailbox);
  });

  test("an HTML-only message: text is converted from the HTML, up to 1,000,000 characters of it", async () => {
    const html = (body: string) =>
      rfc822({ subject: "html", body, headers: [] }).replace(
        "Content-Type: text/plain",
        "Content-Type: text/html",
      );
    const long = `<p>${"x".repeat(1_000_001 - 7)}</p>`;
    const { mailbox, uids } = await appendAll(USER, {
      short: html("<p>Hello <b>world</b></p>"),
      long: html(long),
    });
    const short = await getMessage({ mailbox, uid: String(uids.short) });
    expect([short.text, short.html]).toEqual(["Hello world", "<p>Hello <b>world</b></p>\n"]);
    const tooLong = await getMessage({ mailbox, uid: String(uids.long) });
    expect([tooLong.text, tooLong.html]).toEqual(["", `${long}\n`]);
  });

  test("odd headers: an unreadable Date gives date null (the header is kept), a header named __proto__ is a plain key", async () => {
    const source = rfc822({
      subject: "odd",
      date: "sometime soon",
      headers: ["__proto__: polluted", "X-Empty:"],
    });
    const { mailbox, uids } = await appendAll(USER, { odd: source });
    const data = await getMessage({ mailbox, uid: String(uids.odd) });
    expect(data.date).toBeNull();
    expect(data.headers.date).toBe("sometime soon");
    expect(Object.getOwnPropertyDescriptor(data.headers, "__proto__")?.value).toBe("polluted");
    expect(data.headers["x-empty"]).toBe("");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("the examplePayload has the shape of a real answer", async () => {
    const data = await getMessage({
      mailbox: box.mailbox,
      uid: String(box.uids["inline-images.eml"]),
      includeAttachments: "true",
    });
    const example = getMessageAction.examplePayload?.data as Message;
    expect(Object.keys(example)).toEqual(Object.keys(data));
    expect(Object.keys(example.attachments[0])).toEqual(Object.keys(data.attachments[0]));
    expect(example.attachments[0]).toEqual(data.attachments[0]);
  });

  test("a message the parser refuses (a header block over 1 MB) is a clear error naming UID and mailbox", async () => {
    const source = rfc822({
      subject: "huge header",
      headers: [`X-Huge: ${"a".repeat(1024 * 1024 + 10)}`],
    });
    const { mailbox, uids } = await appendAll(USER, { huge: source });
    const err = await failure(() => getMessage({ mailbox, uid: String(uids.huge) }));
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.uid, err.mailbox]).toEqual(["MESSAGE_UNPARSEABLE", uids.huge, mailbox]);
    expect(err.message).toMatch(
      new RegExp(
        `^The message with UID ${uids.huge} in mailbox "${mailbox}" could not be parsed: .+\\. Download Message still returns it as it is\\.$`,
      ),
    );
  });

  test("reading never sets \\Seen", async () => {
    for (const name of FIXTURES)
      await getMessage({
        mailbox: box.mailbox,
        uid: String(box.uids[name]),
        includeAttachments: "true",
      });
    await expectNothingSeen(box.mailbox);
  });

  test("a UID that names no message is a clear error naming UID and mailbox", async () => {
    const err = await failure(() => getMessage({ mailbox: box.mailbox, uid: "999999" }));
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
    expect(err.message).toBe(
      `There is no message with UID 999999 in mailbox "${box.mailbox}": it was deleted or moved, or the UID belongs to another mailbox. Search the mailbox again for its current UIDs.`,
    );
    expect([err.uid, err.mailbox]).toEqual([999999, box.mailbox]);
  });

  test("a missing mailbox is a clear error", async () => {
    const err = await failure(() => getMessage({ mailbox: "No/Such Box", uid: "1" }));
    expect([err.code, err.message]).toEqual([
      "MAILBOX_NOT_FOUND",
      expect.stringContaining('The mailbox "No/Such Box" does not exist.'),
    ]);
  });

  test.each([
    [{ uid: "abc" }, 'UID "abc" is not a message UID: give one positive whole number, e.g. 42.'],
    [
      { uid: "1", includeAttachments: "yes" },
      'Include Attachments must be true or false, not "yes".',
    ],
    [{ uid: "1", maxAttachmentSize: "-1" }, 'Max Attachment Size "-1" is not a whole number.'],
    [{ uid: "1", maxAttachmentSize: "10MB" }, 'Max Attachment Size "10MB" is not a whole number.'],
    [
      { uid: "1", maxAttachmentSize: "104857601" },
      "Max Attachment Size must be from 0 to 104857600, not 104857601.",
    ],
  ])("bad input %j is refused before connecting", async (params, message) => {
    // port 1 refuses connections: an InputError proves nothing was attempted
    const err = await failure(() =>
      getMessage({ mailbox: "INBOX", ...params }, tlsConnection(USER, { port: "1" })),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(message);
  });
});

describe("getMessage on the server without BINARY, CONDSTORE, UIDPLUS", () => {
  test("gives the same output as the main server and sets no \\Seen", async () => {
    const legacyBox = await appendFixtures(LEGACY_USER);
    for (const name of ["nested-multipart.eml", "forwarded.eml", "latin1.eml"] as const) {
      const params = {
        mailbox: legacyBox.mailbox,
        uid: String(legacyBox.uids[name]),
        includeAttachments: "true",
      };
      const legacy = await getMessage(params, legacyConnection(LEGACY_USER));
      const main = await getMessage(params, tlsConnection(LEGACY_USER));
      expect(legacy).toEqual(main);
      expect(legacy.flags).toEqual([]);
    }
    const flags = await flagsByUid(LEGACY_USER, legacyBox.mailbox);
    expect(Object.values(flags).filter((list) => list.includes("\\Seen"))).toEqual([]);
  });
});
