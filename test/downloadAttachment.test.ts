import { randomBytes } from "node:crypto";
import { ImapError, InputError } from "../src/errors";
import type { FixtureName } from "./fixtures/fixtures";
import {
  appendAll,
  appendFixtures,
  bytes,
  embeddedMessage,
  mimeMessage,
} from "./fixtures/fixtures";
import { failure, flagsByUid, harness, legacyConnection, tlsConnection } from "./helpers";

const USER = "test22";
const LEGACY_USER = "test23";

type Download = { data: Buffer; contentType: string };

async function download(
  params: Record<string, unknown>,
  connection = tlsConnection(USER),
  context: Record<string, unknown> = {},
): Promise<Download> {
  const result = (await harness.action(
    "downloadAttachment",
    { connection, ...params },
    context as never,
  )) as Download;
  expect(Buffer.isBuffer(result.data)).toBe(true);
  return { data: result.data, contentType: result.contentType };
}

/** The IMAP commands a download sent, from the session's debug log. */
async function commandsOf(params: Record<string, unknown>): Promise<string[]> {
  const lines: string[] = [];
  const logger = {
    debug: (...args: unknown[]) => lines.push(args.join(" ")),
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    metric: () => undefined,
  };
  await download(params, tlsConnection(USER), { logger, globalDebug: true });
  return lines
    .filter((line) => line.startsWith("imap debug: "))
    .map((line) => JSON.parse(line.slice("imap debug: ".length)) as { src?: string; msg?: string })
    .filter((entry) => entry.src === "c" && typeof entry.msg === "string")
    .map((entry) => (entry.msg ?? "").replace(/^\S+ /, ""));
}

let box: { mailbox: string; uids: Record<FixtureName, number> };
const uidOf = (name: FixtureName) => String(box.uids[name]);

beforeAll(async () => {
  box = await appendFixtures(USER);
});

/** Every part the tests download, with the exact bytes and type expected. */
const CASES: [FixtureName, string, string, Buffer][] = [
  ["attachment-only.eml", "1", "application/pdf", bytes.pdf],
  ["inline-images.eml", "2", "image/png", bytes.png],
  ["inline-images.eml", "3", "image/gif", bytes.gif],
  ["nested-multipart.eml", "1.2.2", "image/jpeg", bytes.jpg],
  ["nested-multipart.eml", "2", "application/zip", bytes.zip],
  ["nested-multipart.eml", "3", "text/csv", bytes.csv],
  ["forwarded.eml", "2", "message/rfc822", embeddedMessage("Carol")],
  ["forwarded.eml", "2.2", "application/pdf", bytes.pdf],
  ["forwarded.eml", "3", "message/rfc822", embeddedMessage("Dave")],
  ["forwarded.eml", "3.1", "text/plain", Buffer.from("Just a note.\r\n")],
  ["rfc2231.eml", "1", "text/plain", bytes.gruesse],
  ["rfc2231.eml", "2", "application/pdf", bytes.pdf],
  // a text part is not converted: its own bytes, here ISO-8859-1
  [
    "latin1.eml",
    "1",
    "text/plain",
    Buffer.from("Grüße aus Köln!\r\nÇa coûte 5 £, ½ Preis.\r\n", "latin1"),
  ],
];

describe("downloadAttachment", () => {
  test.each(CASES)(
    "%s part %s: the decoded bytes and the content type",
    async (name, partId, contentType, expected) => {
      const result = await download({ mailbox: box.mailbox, uid: uidOf(name), partId });
      expect(result.contentType).toBe(contentType);
      expect(result.data.equals(expected)).toBe(true);
    },
  );

  test("fetches only that part, in one FETCH (BINARY where the server has it), never the whole message", async () => {
    const commands = await commandsOf({
      mailbox: box.mailbox,
      uid: uidOf("nested-multipart.eml"),
      partId: "3",
    });
    const fetches = commands.filter((command) => /FETCH/i.test(command));
    const uid = uidOf("nested-multipart.eml");
    // no MODSEQ: the session does not ENABLE CONDSTORE, and nothing reads it
    expect(fetches).toEqual([
      `UID FETCH ${uid} (UID BODYSTRUCTURE)`,
      `UID FETCH ${uid} (UID BINARY.PEEK[3])`,
    ]);
    expect(commands.some((command) => command.startsWith("EXAMINE "))).toBe(true);
  });

  test("Return As json gives the file name, part ID, size and checksum with the content, as Get Message lists them", async () => {
    const uid = uidOf("rfc2231.eml");
    const { data } = (await harness.action("downloadAttachment", {
      connection: tlsConnection(USER),
      mailbox: box.mailbox,
      uid,
      filename: "Übersicht 2026.pdf",
      returnAs: "json",
    })) as { data: Record<string, unknown> };
    const file = await download({ mailbox: box.mailbox, uid, filename: "Übersicht 2026.pdf" });
    const listed = (
      (await harness.action("getMessage", {
        connection: tlsConnection(USER),
        mailbox: box.mailbox,
        uid,
      })) as {
        data: {
          attachments: { filename: string; partId: string; size: number; checksum: string }[];
        };
      }
    ).data.attachments.find((item) => item.filename === "Übersicht 2026.pdf");
    expect(data).toEqual({
      mailbox: box.mailbox,
      uid: Number(uid),
      partId: listed?.partId,
      filename: "Übersicht 2026.pdf",
      contentType: file.contentType,
      size: file.data.length,
      checksum: listed?.checksum,
      content: file.data.toString("base64"),
    });
    expect(listed?.size).toBe(file.data.length);
  });

  test("Return As takes file or json only, checked before connecting", async () => {
    const err = await failure(() =>
      harness.action("downloadAttachment", {
        connection: tlsConnection(USER, { port: "1" }),
        mailbox: box.mailbox,
        uid: "1",
        partId: "2",
        returnAs: "xml",
      }),
    );
    expect(err.message).toBe('Return As must be one of "file", "json", not "xml".');
  });

  test("by file name, RFC 2231 encoded (Grüße.txt) or continued (Übersicht 2026.pdf)", async () => {
    const gruesse = await download({
      mailbox: box.mailbox,
      uid: uidOf("rfc2231.eml"),
      filename: "Grüße.txt",
    });
    expect([gruesse.contentType, gruesse.data.toString("utf8")]).toEqual([
      "text/plain",
      "Liebe Grüße\n",
    ]);
    const pdf = await download({
      mailbox: box.mailbox,
      uid: uidOf("rfc2231.eml"),
      filename: "Übersicht 2026.pdf",
    });
    expect([pdf.contentType, pdf.data.equals(bytes.pdf)]).toEqual(["application/pdf", true]);
    const eml = await download({
      mailbox: box.mailbox,
      uid: uidOf("forwarded.eml"),
      filename: "original.eml",
    });
    expect(eml.data.equals(embeddedMessage("Carol"))).toBe(true);
  });

  test("the part id wins over a file name given as well", async () => {
    const result = await download({
      mailbox: box.mailbox,
      uid: uidOf("rfc2231.eml"),
      partId: "4",
      filename: "Grüße.txt",
    });
    expect(result.data.toString()).toBe("c,d\r\n3,4");
  });

  test("a file name shared by several attachments is a clear error listing their part ids", async () => {
    const err = await failure(() =>
      download({ mailbox: box.mailbox, uid: uidOf("rfc2231.eml"), filename: "data.csv" }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("PART_AMBIGUOUS");
    expect(err.message).toBe(
      `The message has 2 attachments named "data.csv" (parts 3, 4) (UID ${uidOf("rfc2231.eml")} in mailbox "${box.mailbox}"). Give the Part ID of the one you want instead of the file name.`,
    );
  });

  test("an unknown file name is a clear error listing the files there are", async () => {
    const err = await failure(() =>
      download({
        mailbox: box.mailbox,
        uid: uidOf("nested-multipart.eml"),
        filename: "missing.pdf",
      }),
    );
    expect(err.code).toBe("PART_NOT_FOUND");
    expect(err.message).toBe(
      `The message has no attachment named "missing.pdf"; its files are "photo.jpg" (part 1.2.2), "archive.zip" (part 2), "table.csv" (part 3) (UID ${uidOf("nested-multipart.eml")} in mailbox "${box.mailbox}"). Get Message lists the attachments with their partId.`,
    );
  });

  test("a file name inside an attached message is not searched: the attached message is one file", async () => {
    const err = await failure(() =>
      download({ mailbox: box.mailbox, uid: uidOf("forwarded.eml"), filename: "inner.pdf" }),
    );
    expect(err.message).toBe(
      `The message has no attachment named "inner.pdf"; its files are "original.eml" (part 2), "after.png" (part 4) (UID ${uidOf("forwarded.eml")} in mailbox "${box.mailbox}"). Get Message lists the attachments with their partId.`,
    );
  });

  test("an unknown part and a multipart container are clear errors", async () => {
    const uid = uidOf("nested-multipart.eml");
    const unknown = await failure(() => download({ mailbox: box.mailbox, uid, partId: "7" }));
    expect([unknown.code, unknown.message]).toEqual([
      "PART_NOT_FOUND",
      `The message has no body part 7 (UID ${uid} in mailbox "${box.mailbox}"). Get Message lists the attachments with their partId.`,
    ]);
    const container = await failure(() => download({ mailbox: box.mailbox, uid, partId: "1.2" }));
    expect(container.message).toBe(
      `Body part 1.2 is a multipart/related container, not a single part: use one of its parts (1.2.1, 1.2.2) (UID ${uid} in mailbox "${box.mailbox}"). Get Message lists the attachments with their partId.`,
    );
  });

  test("a UID that names no message is a clear error naming UID and mailbox", async () => {
    const err = await failure(() => download({ mailbox: box.mailbox, uid: "999999", partId: "2" }));
    expect([err.code, err.uid, err.mailbox]).toEqual(["MESSAGE_NOT_FOUND", 999999, box.mailbox]);
    expect(err.message).toBe(
      `There is no message with UID 999999 in mailbox "${box.mailbox}": it was deleted or moved, or the UID belongs to another mailbox. Search the mailbox again for its current UIDs.`,
    );
  });

  test.each([
    [
      { uid: "1" },
      "Give the Part ID of the attachment (the partId Get Message lists) or, when it is not known, its File Name.",
    ],
    [
      { uid: "1", partId: "  ", filename: "" },
      "Give the Part ID of the attachment (the partId Get Message lists) or, when it is not known, its File Name.",
    ],
    [
      { uid: "1", partId: "abc" },
      'Part ID "abc" is not a body part number: give one such as 2 or 1.2 (the partId of an attachment from Get Message).',
    ],
    [
      { uid: "1", partId: "0" },
      'Part ID "0" is not a body part number: give one such as 2 or 1.2 (the partId of an attachment from Get Message).',
    ],
    [
      { uid: "1", partId: "1..2" },
      'Part ID "1..2" is not a body part number: give one such as 2 or 1.2 (the partId of an attachment from Get Message).',
    ],
    [
      { uid: "1", partId: "1.MIME" },
      'Part ID "1.MIME" is not a body part number: give one such as 2 or 1.2 (the partId of an attachment from Get Message).',
    ],
    [{ uid: "0", partId: "1" }, "UID 0 is out of range: UIDs run from 1 to 4294967295."],
  ])("bad input %j is refused before connecting", async (params, message) => {
    // port 1 refuses connections: an InputError proves nothing was attempted
    const err = await failure(() =>
      download({ mailbox: "INBOX", ...params }, tlsConnection(USER, { port: "1" })),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(message);
  });

  test("a large attachment comes whole (no truncation, no 64 KiB chunking) and \\Seen stays unset", async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const { mailbox, uids } = await appendAll(USER, {
      message: mimeMessage("big", [
        { type: "application/octet-stream", filename: "big.bin", data: big },
      ]),
    });
    const result = await download({ mailbox, uid: String(uids.message), filename: "big.bin" });
    expect([result.contentType, result.data.length, result.data.equals(big)]).toEqual([
      "application/octet-stream",
      big.length,
      true,
    ]);
    expect((await flagsByUid(USER, mailbox))[uids.message]).not.toContain("\\Seen");
  });

  test("never sets \\Seen", async () => {
    for (const [name, partId] of CASES)
      await download({ mailbox: box.mailbox, uid: uidOf(name), partId });
    const flags = await flagsByUid(USER, box.mailbox);
    expect(Object.values(flags).filter((list) => list.includes("\\Seen"))).toEqual([]);
  });
});

describe("downloadAttachment on the server without BINARY (decoded here)", () => {
  let legacyBox: { mailbox: string; uids: Record<FixtureName, number> };
  beforeAll(async () => {
    legacyBox = await appendFixtures(LEGACY_USER);
  });

  test.each(CASES)(
    "%s part %s: the same bytes as with BINARY",
    async (name, partId, contentType, expected) => {
      const result = await download(
        { mailbox: legacyBox.mailbox, uid: String(legacyBox.uids[name]), partId },
        legacyConnection(LEGACY_USER),
      );
      expect(result.contentType).toBe(contentType);
      expect(result.data.equals(expected)).toBe(true);
    },
  );

  test("a large base64 attachment and a quoted-printable one with trailing blanks decode exactly", async () => {
    const big = randomBytes(2 * 1024 * 1024 + 5);
    const qp = [
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      'Content-Disposition: attachment; filename="notes.txt"',
    ].join("\r\n");
    const withQp = mimeMessage("legacy", [
      { type: "application/octet-stream", filename: "big.bin", data: big },
    ])
      .toString("latin1")
      .replace(
        /--(b-[^\r\n]+)--\r\n$/,
        `--$1\r\n${qp}\r\n\r\nline one  \r\nsoft =\r\nbreak=3D=C3=BC=20\r\n=\r\n--$1--\r\n`,
      );
    const { mailbox, uids } = await appendAll(LEGACY_USER, {
      message: Buffer.from(withQp, "latin1"),
    });
    const connection = legacyConnection(LEGACY_USER);
    const bin = await download({ mailbox, uid: String(uids.message), partId: "2" }, connection);
    expect(bin.data.equals(big)).toBe(true);
    const notes = await download(
      { mailbox, uid: String(uids.message), filename: "notes.txt" },
      connection,
    );
    // blanks a transport added at a line end are dropped, an encoded one (=20) is kept
    expect(notes.data.toString("utf8")).toBe("line one\r\nsoft break=ü \r\n");
    const flags = await flagsByUid(LEGACY_USER, mailbox);
    expect(flags[uids.message]).not.toContain("\\Seen");
  });
});
