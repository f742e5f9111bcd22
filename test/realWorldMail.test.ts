/**
 * Mail as real senders write it, appended to the real server and read through the component:
 * part numbers as the server numbers them (also where MIME is malformed), one definition of the
 * bytes of a part across every output, lenient decoding where the server's BINARY decoder is
 * strict, and the charsets and headers real mail uses. Expected values come from the RFCs named
 * and from the server's own BODYSTRUCTURE, read with a separate client.
 */
import type { ParsedAttachment } from "../src/parseMessage";
import type { RealWorldFixture } from "./fixtures/fixtures";
import {
  appendAll,
  bytes,
  fixture,
  REAL_WORLD_FIXTURES,
  readBack,
  sha256,
  structureParts,
} from "./fixtures/fixtures";
import type { Fields } from "./helpers";
import {
  harness,
  legacyConnection,
  openResources,
  resourcesAfter,
  server,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
} from "./helpers";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test33";

type Attachment = Omit<ParsedAttachment, "content" | "partId"> & {
  partId: string | null;
  content: string | null;
};
type Message = {
  subject: string;
  date: string | null;
  from: { name: string; address: string }[];
  to: { name: string; address: string }[];
  cc: { name: string; address: string }[];
  text: string | null;
  html: string | null;
  headers: Record<string, unknown>;
  attachments: Attachment[];
};

/** The Cc of real-world-headers.eml as RFC 5322 reads it (Appendix A.5, A.6.2): a group flattened, a route, an empty element. */
const OBSOLETE_CC = [
  { name: "Chris Jones", address: "c@public.example" },
  { name: "", address: "joe@example.org" },
  { name: "Mary Smith", address: "mary@example.net" },
  { name: "", address: "jdoe@test.example" },
];

let box: { mailbox: string; uids: Record<RealWorldFixture, number> };
const uidOf = (name: RealWorldFixture) => String(box.uids[name]);

beforeAll(async () => {
  box = await appendAll(
    USER,
    Object.fromEntries(REAL_WORLD_FIXTURES.map((name) => [name, fixture(name)])) as Record<
      RealWorldFixture,
      Buffer
    >,
  );
});

async function getMessage(name: RealWorldFixture, connection = tlsConnection(USER)) {
  const { data } = (await harness.action("getMessage", {
    connection,
    mailbox: box.mailbox,
    uid: uidOf(name),
    includeAttachments: "true",
  })) as { data: Message };
  return data;
}

async function download(
  action: "downloadAttachment" | "downloadMessage",
  params: Fields,
  connection = tlsConnection(USER),
): Promise<Buffer> {
  const result = (await harness.action(action, {
    connection,
    mailbox: box.mailbox,
    ...params,
  })) as { data: Buffer };
  return result.data;
}

/** BODY[part] as the server sends it, with a separate client (the transfer encoding left on). */
async function serverSection(name: RealWorldFixture, part: string): Promise<Buffer> {
  return withDirectMailbox(USER, box.mailbox, { readOnly: true }, async (client) => {
    const message = await client.fetchOne(
      uidOf(name),
      { uid: true, bodyParts: [part] },
      { uid: true },
    );
    const section = message ? message.bodyParts?.get(part) : undefined;
    if (!section) throw new Error(`no BODY[${part}] for ${name}`);
    return section;
  });
}

/** The part of a fixture from `start` up to the CRLF that RFC 2046 gives to the next delimiter. */
function between(name: RealWorldFixture, start: string, delimiter: string): Buffer {
  const source = fixture(name).toString("latin1");
  const from = source.indexOf(start);
  return Buffer.from(source.slice(from, source.indexOf(`\r\n${delimiter}`, from)), "latin1");
}

describe("part numbers are the server's", () => {
  test.each(REAL_WORLD_FIXTURES)(
    "%s: every partId is a part of the server's BODYSTRUCTURE with that type, and both downloads of it give getMessage's bytes",
    async (name) => {
      const message = await getMessage(name);
      const { bodyStructure } = await readBack(USER, box.mailbox, box.uids[name]);
      if (!bodyStructure) throw new Error("no BODYSTRUCTURE");
      const parts = structureParts(bodyStructure);
      for (const attachment of message.attachments) {
        if (attachment.partId === null) continue;
        const node = parts.get(attachment.partId);
        expect([attachment.partId, node?.type.toLowerCase()]).toEqual([
          attachment.partId,
          attachment.contentType,
        ]);
        const content = Buffer.from(attachment.content ?? "", "base64");
        expect(content.length).toBe(attachment.size);
        expect(sha256(content)).toBe(attachment.checksum);
        const byId = await download("downloadAttachment", {
          uid: uidOf(name),
          partId: attachment.partId,
        });
        expect(byId.equals(content)).toBe(true);
        const asPart = await download("downloadMessage", {
          uid: uidOf(name),
          part: attachment.partId,
        });
        expect(asPart.equals(content)).toBe(true);
      }
    },
  );

  test("a line that only begins like the boundary: the server splits there, so the image is its part 3, not the parser's 2", async () => {
    const { bodyStructure } = await readBack(USER, box.mailbox, box.uids["boundary-prefix.eml"]);
    // the server's own numbering, read by a separate client
    expect(structureParts(bodyStructure ?? { type: "" }).get("3")?.type).toBe("image/gif");
    const message = await getMessage("boundary-prefix.eml");
    expect(message.attachments.map((a) => [a.partId, a.filename, a.size])).toEqual([
      ["3", "dot.gif", bytes.gif.length],
    ]);
    expect(message.attachments[0]?.checksum).toBe(sha256(bytes.gif));
  });

  test("Content-Type: multipart/mixed;; the server sees no parts: the attachment has partId null, not a wrong one", async () => {
    const { bodyStructure } = await readBack(USER, box.mailbox, box.uids["double-semicolon.eml"]);
    expect(structureParts(bodyStructure ?? { type: "" }).has("2")).toBe(false);
    const message = await getMessage("double-semicolon.eml");
    expect(message.attachments.map((a) => [a.partId, a.filename, a.checksum])).toEqual([
      [null, "report.pdf", sha256(bytes.pdf)],
    ]);
  });

  test("an attached message ending in blank lines: size, checksum, content and both downloads are BODY[2], the CRLF before the delimiter excluded (RFC 2046 5.1.1)", async () => {
    const expected = between("attached-last.eml", "From: Carol", "--fwd--");
    expect(expected.toString("latin1").endsWith("blank lines.\r\n\r\n")).toBe(true);
    expect((await serverSection("attached-last.eml", "2")).equals(expected)).toBe(true);
    const [attachment] = (await getMessage("attached-last.eml")).attachments;
    expect(attachment).toMatchObject({
      partId: "2",
      contentType: "message/rfc822",
      filename: "note.eml",
      size: expected.length,
      checksum: sha256(expected),
      content: expected.toString("base64"),
    });
    const downloaded = await download("downloadAttachment", {
      uid: uidOf("attached-last.eml"),
      filename: "note.eml",
    });
    expect(downloaded.equals(expected)).toBe(true);
  });

  test("an attached message that is only a header: every output is BODY[2] as the server delimits it, here with the line break before the delimiter, which the parser leaves out", async () => {
    const rfc2046 = between("attached-headers-only.eml", "From: Carol", "--fwd--");
    const section = await serverSection("attached-headers-only.eml", "2");
    // the server keeps the CRLF that RFC 2046 gives to the delimiter
    expect(section.equals(Buffer.concat([rfc2046, Buffer.from("\r\n")]))).toBe(true);
    const [attachment] = (await getMessage("attached-headers-only.eml")).attachments;
    expect(attachment).toMatchObject({
      partId: "2",
      size: section.length,
      checksum: sha256(section),
      content: section.toString("base64"),
    });
    const downloaded = await download("downloadAttachment", {
      uid: uidOf("attached-headers-only.eml"),
      partId: "2",
    });
    expect(downloaded.equals(section)).toBe(true);
  });

  test("multipart/digest: parts without a Content-Type are attached messages (RFC 2046 5.1.5), not text", async () => {
    const message = await getMessage("digest.eml");
    expect(message.text).toBe("Today's topics: one, two.");
    const one = between("digest.eml", "From: One", "--dig");
    const two = between("digest.eml", "From: Two", "--dig--");
    expect(message.attachments.map((a) => [a.partId, a.contentType, a.size, a.checksum])).toEqual([
      ["2.1", "message/rfc822", one.length, sha256(one)],
      ["2.2", "message/rfc822", two.length, sha256(two)],
    ]);
  });

  test("the newEmails trigger reports the same part ids and envelope as getMessage", async () => {
    const mailbox = uniqueName("poll");
    await withDirect(USER, (client) => client.mailboxCreate(mailbox));
    const instanceState: Record<string, unknown> = {};
    const poll = async () =>
      (
        (await harness.trigger(
          "newEmails",
          {},
          { connection: tlsConnection(USER), mailbox, fetchContent: true },
          { instanceState },
        )) as unknown as {
          payload: {
            body: {
              data: {
                messages: {
                  attachments: { partId: string | null }[];
                  envelope: Record<string, unknown>;
                }[];
              };
            };
          };
        }
      ).payload.body.data.messages;
    // the first poll records where the mailbox stands
    expect(await poll()).toEqual([]);
    await withDirect(USER, async (client) => {
      await client.append(mailbox, fixture("boundary-prefix.eml"));
      await client.append(mailbox, fixture("double-semicolon.eml"));
      await client.append(mailbox, fixture("real-world-headers.eml"));
    });
    const delivered = await poll();
    expect(delivered.map((message) => message.attachments.map((a) => a.partId))).toEqual([
      ["3"],
      [null],
      ["2", "3"],
    ]);
    // the envelope decoded as getMessage decodes the headers
    expect(delivered[2]?.envelope).toMatchObject({
      subject: "Grüße aus Köln",
      from: [{ name: "Frösche", address: "frog@example.com" }],
      cc: OBSOLETE_CC,
      date: "1969-02-13T23:32:54.000Z",
    });
  });
});

describe("the newEmails trigger describes attachments as getMessage does", () => {
  test("for every fixture, field for field, with sizes the server's own (decoded BODY[n]) where the parser disagrees", async () => {
    // base64-footer.eml: a scanner's footer after the base64 data, which mailparser decodes as
    // data (RFC 2045 6.8: after the padding, and outside the alphabet, it is not)
    const names = [...REAL_WORLD_FIXTURES, "base64-footer.eml" as const];
    const mailbox = uniqueName("pollparts");
    await withDirect(USER, (client) => client.mailboxCreate(mailbox));
    const instanceState: Record<string, unknown> = {};
    const poll = async () =>
      (
        (await harness.trigger(
          "newEmails",
          {},
          { connection: tlsConnection(USER), mailbox, fetchContent: true, batchSize: "20" },
          { instanceState },
        )) as unknown as {
          payload: { body: { data: { messages: { uid: number; attachments: unknown[] }[] } } };
        }
      ).payload.body.data.messages;
    expect(await poll()).toEqual([]);
    const uids = await withDirect(USER, async (client) => {
      const out: number[] = [];
      for (const name of names) {
        const appended = await client.append(mailbox, fixture(name));
        if (!appended || !appended.uid) throw new Error(`append of ${name} failed`);
        out.push(appended.uid);
      }
      return out;
    });
    const delivered = await poll();
    expect(delivered.map((message) => message.uid)).toEqual(uids);
    let withEncodedParts = 0;
    for (const [index, name] of names.entries()) {
      const uid = uids[index] as number;
      const { data } = (await harness.action("getMessage", {
        connection: tlsConnection(USER),
        mailbox,
        uid: String(uid),
      })) as { data: Message };
      const expected = data.attachments.map(
        ({ partId, filename, contentType, size, contentId, inline }) => ({
          partId,
          filename,
          contentType,
          size,
          contentId,
          inline,
        }),
      );
      expect([name, delivered[index]?.attachments]).toEqual([name, expected]);
      // each numbered attachment's size is that of the server's part, decoded
      const parts = structureParts((await readBack(USER, mailbox, uid)).bodyStructure as never);
      const sections = await withDirectMailbox(
        USER,
        mailbox,
        { readOnly: true },
        async (client) => {
          const ids = expected.flatMap((a) => (a.partId ? [a.partId] : []));
          if (ids.length === 0) return new Map<string, Buffer>();
          const row = await client.fetchOne(String(uid), { bodyParts: ids }, { uid: true });
          return row ? (row.bodyParts ?? new Map<string, Buffer>()) : new Map<string, Buffer>();
        },
      );
      for (const attachment of expected) {
        if (!attachment.partId) continue;
        const part = parts.get(attachment.partId);
        const raw = sections.get(attachment.partId) ?? Buffer.alloc(0);
        const encoding = (part?.encoding ?? "7bit").toLowerCase();
        if (encoding === "base64" || encoding === "quoted-printable") withEncodedParts += 1;
        const decoded =
          encoding === "base64"
            ? Buffer.from(
                raw
                  .toString("latin1")
                  // RFC 2045 6.8: outside the alphabet is ignored, and the padding ends the data
                  .replace(/[^A-Za-z0-9+/=]/g, "")
                  .replace(/=.*$/s, ""),
                "base64",
              )
            : encoding === "quoted-printable"
              ? Buffer.from(
                  raw
                    .toString("latin1")
                    // soft line breaks, also a final one with nothing after it (RFC 2045 6.7)
                    .replace(/=(\r?\n|$)/g, "")
                    .replace(/=([0-9A-Fa-f]{2})/g, (_all, hex: string) =>
                      String.fromCharCode(Number.parseInt(hex, 16)),
                    ),
                  "latin1",
                )
              : raw;
        expect([name, attachment.partId, attachment.size]).toEqual([
          name,
          attachment.partId,
          decoded.length,
        ]);
      }
    }
    expect(withEncodedParts).toBeGreaterThan(0);
  });
});

describe("sloppy transfer encoding that the server's BINARY decoder refuses", () => {
  // RFC 4648 decoders that ignore what is not base64 and a missing final padding, and RFC 2045's
  // quoted-printable whose final soft line break joins nothing
  const expected: Record<string, Buffer> = {
    "2": Buffer.from([0, 1, 2, 3, 4]),
    "3": Buffer.from("ends with a soft break"),
    "4": Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]),
  };

  test.each(["2", "3", "4"])(
    "part %s: downloadAttachment and downloadMessage decode it leniently, equal to getMessage's content and checksum",
    async (partId) => {
      const before = openResources();
      const message = await getMessage("sloppy-encoding.eml");
      const attachment = message.attachments.find((a) => a.partId === partId);
      expect(attachment).toMatchObject({
        size: expected[partId]?.length,
        checksum: sha256(expected[partId] ?? Buffer.alloc(0)),
      });
      for (const connection of [tlsConnection(USER), legacyConnection(USER)]) {
        const byId = await download(
          "downloadAttachment",
          { uid: uidOf("sloppy-encoding.eml"), partId },
          connection,
        );
        expect(byId.equals(expected[partId] ?? Buffer.alloc(0))).toBe(true);
        const asPart = await download(
          "downloadMessage",
          { uid: uidOf("sloppy-encoding.eml"), part: partId },
          connection,
        );
        expect(asPart.equals(expected[partId] ?? Buffer.alloc(0))).toBe(true);
      }
      expect(await resourcesAfter(before)).toEqual(before);
    },
  );

  test("a server that refuses the BINARY fetch of the part: fetched as stored and decoded in the same session", async () => {
    const logins: string[] = [];
    const binaryFetches: string[] = [];
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      {
        toServer: (line) => {
          if (/^\S+ (LOGIN|AUTHENTICATE) /i.test(line)) logins.push(line);
          if (!/^\S+ UID FETCH .*BINARY\.PEEK\[/i.test(line)) return line;
          binaryFetches.push(line);
          // a command the server answers with BAD, and no data
          return line.replace("BINARY.PEEK[", "BINARY.PEEK[[");
        },
        // the server offers BINARY
        toClient: (line) => line.replace(/^(\* CAPABILITY|\S+ OK \[CAPABILITY) /, "$1 BINARY "),
      },
    );
    try {
      const connection = legacyConnection(USER, { port: String(proxy.port) });
      const data = await download(
        "downloadAttachment",
        { uid: uidOf("sloppy-encoding.eml"), partId: "2" },
        connection,
      );
      expect(data.equals(expected["2"] ?? Buffer.alloc(0))).toBe(true);
      expect([binaryFetches.length, logins.length]).toEqual([1, 1]);
    } finally {
      await proxy.close();
    }
  });
});

describe("charsets and headers as real mail writes them", () => {
  test("raw 8-bit inside encoded words in the declared charset, raw UTF-8 headers (RFC 6532), an unknown zone as -0000 (RFC 5322 4.3)", async () => {
    const message = await getMessage("real-world-headers.eml");
    expect(message.subject).toBe("Grüße aus Köln");
    expect(message.headers.subject).toBe("Grüße aus Köln");
    expect(message.from).toEqual([{ name: "Frösche", address: "frog@example.com" }]);
    expect(message.to).toEqual([{ name: "Счёт", address: "schet@example.com" }]);
    expect(message.cc).toEqual(OBSOLETE_CC);
    expect(message.date).toBe("1969-02-13T23:32:54.000Z");
    expect(message.attachments.map((a) => [a.partId, a.filename, a.checksum])).toEqual([
      ["2", "Счёт.pdf", sha256(bytes.pdf)],
      ["3", "Frösche.gif", sha256(bytes.gif)],
    ]);
  });

  test.each([
    ["Счёт.pdf", bytes.pdf],
    ["Frösche.gif", bytes.gif],
  ])("downloadAttachment by the file name getMessage gives: %s", async (filename, expected) => {
    const data = await download("downloadAttachment", {
      uid: uidOf("real-world-headers.eml"),
      filename,
    });
    expect(data.equals(expected)).toBe(true);
  });

  test("searchMailbox's envelope follows the same rules: subject, names, obsolete addresses, the date", async () => {
    const { data } = (await harness.action("searchMailbox", {
      connection: tlsConnection(USER),
      mailbox: box.mailbox,
    })) as {
      data: { messages: { uid: number; envelope: Record<string, unknown> }[] };
    };
    const envelopeOf = (name: RealWorldFixture) =>
      data.messages.find((message) => message.uid === box.uids[name])?.envelope;
    expect(envelopeOf("real-world-headers.eml")).toMatchObject({
      subject: "Grüße aus Köln",
      date: "1969-02-13T23:32:54.000Z",
      from: [{ name: "Frösche", address: "frog@example.com" }],
      // ENVELOPE's rule (RFC 3501 7.4.2): no Reply-To header, so the From
      replyTo: [{ name: "Frösche", address: "frog@example.com" }],
      to: [{ name: "Счёт", address: "schet@example.com" }],
      cc: OBSOLETE_CC,
      messageId: "<real-world-headers@example.com>",
    });
    expect(envelopeOf("utf7.eml")).toMatchObject({
      subject: "Grüße aus Köln",
      from: [{ name: "Jürgen", address: "juergen@example.com" }],
    });
  });

  test("UTF-7 (RFC 2152) in encoded words (subject, name, file name) and in a text part; downloadAttachment finds the decoded file name", async () => {
    const message = await getMessage("utf7.eml");
    expect(message.subject).toBe("Grüße aus Köln");
    expect(message.from).toEqual([{ name: "Jürgen", address: "juergen@example.com" }]);
    expect(message.text).toBe("Grüße, Jürgen");
    expect(message.attachments.map((a) => [a.partId, a.filename, a.checksum])).toEqual([
      ["2", "Übersicht.pdf", sha256(bytes.pdf)],
    ]);
    const byName = await download("downloadAttachment", {
      uid: uidOf("utf7.eml"),
      filename: "Übersicht.pdf",
    });
    expect(byName.equals(bytes.pdf)).toBe(true);
  });

  test("an empty text/plain beside HTML: text is an empty string, html the HTML", async () => {
    const message = await getMessage("empty-plain.eml");
    expect([message.text, message.html]).toEqual(["", "<p>Only HTML says something.</p>"]);
  });
});
