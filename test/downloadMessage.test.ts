import { createHash, randomBytes } from "node:crypto";
import { ImapError, InputError } from "../src/errors";
import {
  failure,
  harness,
  legacyConnection,
  rfc822,
  server,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
  withoutRecent,
} from "./helpers";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test06";
const LEGACY_USER = "test08";
const NOWHERE = tlsConnection(USER, { port: "1" });

/** Source, flags (without \Recent) and internal date of one message, read by a separate client. */
async function stored(
  user: string,
  path: string,
  uid: number,
): Promise<{ source: string; flags: string[]; internalDate: string }> {
  return withDirectMailbox(user, path, { readOnly: true }, async (client) => {
    const msg = await client.fetchOne(
      String(uid),
      { uid: true, source: true, flags: true, internalDate: true },
      { uid: true },
    );
    if (!msg || msg.uid !== uid) throw new Error(`UID ${uid} not in ${path}`);
    return {
      source: msg.source?.toString("utf8") ?? "",
      flags: withoutRecent(msg.flags).sort(),
      internalDate: new Date(msg.internalDate ?? 0).toISOString(),
    };
  });
}

const MULTIPART = [
  "From: Alice Example <alice@example.com>",
  "To: bob@example.com",
  "Subject: Report",
  "Message-ID: <report@example.com>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="outer"',
  "",
  "--outer",
  "Content-Type: text/plain; charset=iso-8859-1",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Gr=FC=DFe aus K=F6ln, eine sehr lange Zeile, die weich umbrochen wird, damit sie =",
  "nicht zu lang ist.",
  "--outer",
  'Content-Type: application/pdf; name="report.pdf"',
  'Content-Disposition: attachment; filename="report.pdf"',
  "Content-Transfer-Encoding: base64",
  "",
  ...(Buffer.from("%PDF-1.4 binary \u0000\u00ff payload ".repeat(40), "latin1")
    .toString("base64")
    .match(/.{1,76}/g) ?? []),
  "--outer",
  "Content-Type: message/rfc822",
  "",
  "From: carol@example.com",
  "Subject: Inner",
  "",
  "Inner body",
  "--outer--",
  "",
].join("\r\n");

async function seedOne(
  user: string,
  message: string,
  path = uniqueName("download"),
): Promise<{ path: string; uid: number }> {
  return withDirect(user, async (client) => {
    await client.mailboxCreate(path);
    const appended = await client.append(path, message);
    if (!appended || !appended.uid) throw new Error("append failed");
    return { path, uid: appended.uid };
  });
}

type Binary = { data: Buffer; contentType: string };

async function download(connection: unknown, params: Record<string, unknown>): Promise<Binary> {
  return (await harness.action("downloadMessage", { connection, ...params })) as unknown as Binary;
}

describe("downloadMessage", () => {
  test("returns the whole message byte for byte as message/rfc822 and leaves it unread", async () => {
    const { path, uid } = await seedOne(USER, MULTIPART);
    const out = await download(tlsConnection(USER), { mailbox: path, uid: String(uid) });
    expect(out.contentType).toBe("message/rfc822");
    expect(Buffer.isBuffer(out.data)).toBe(true);
    expect(out.data.equals(Buffer.from(MULTIPART, "latin1"))).toBe(true);
    expect((await stored(USER, path, uid)).flags).toEqual([]);
  });

  test.each([
    ["main", USER],
    ["legacy (no BINARY)", LEGACY_USER],
  ])(
    "returns a part decoded: quoted-printable text, a base64 attachment, an attached message (%s)",
    async (kind, user) => {
      const { path, uid } = await seedOne(user, MULTIPART);
      const connection = kind === "main" ? tlsConnection(user) : legacyConnection(user);
      const text = await download(connection, { mailbox: path, uid: String(uid), part: "1" });
      expect(text.data.toString("latin1")).toBe(
        "Grüße aus Köln, eine sehr lange Zeile, die weich umbrochen wird, damit sie nicht zu lang ist.",
      );
      const pdf = await download(connection, { mailbox: path, uid: String(uid), part: "2" });
      expect(pdf).toEqual({
        data: Buffer.from("%PDF-1.4 binary \u0000\u00ff payload ".repeat(40), "latin1"),
        contentType: "application/pdf",
      });
      const inner = await download(connection, { mailbox: path, uid: String(uid), part: "3" });
      expect(inner).toEqual({
        data: Buffer.from("From: carol@example.com\r\nSubject: Inner\r\n\r\nInner body"),
        contentType: "message/rfc822",
      });
      expect((await stored(user, path, uid)).flags).toEqual([]);
    },
  );

  test("the whole message takes ONE FETCH, also when it is large", async () => {
    const big = rfc822({ subject: "Big", body: "x".repeat(76).concat("\r\n").repeat(20_000) });
    const { path, uid } = await seedOne(LEGACY_USER, big);
    const fetches: string[] = [];
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      {
        toServer: (line) => {
          if (/^\S+ UID FETCH /.test(line)) fetches.push(line.trim());
          return line;
        },
      },
    );
    try {
      const out = await download(legacyConnection(LEGACY_USER, { port: String(proxy.port) }), {
        mailbox: path,
        uid: String(uid),
      });
      expect(out.data.length).toBe(Buffer.byteLength(big));
    } finally {
      await proxy.close();
    }
    expect(fetches).toHaveLength(1);
    expect(fetches[0]).toMatch(new RegExp(`^\\S+ UID FETCH ${uid} \\(UID BODY\\.PEEK\\[\\]\\)$`));
  });

  test("a large message comes back byte-identical, its literal read in many chunks", async () => {
    // 8 MB of random base64 lines: the literal spans hundreds of TLS records, each copied into
    // one buffer of the announced size as it arrives (patches/imapflow+2.10.2.patch).
    const lines =
      randomBytes(6 * 1024 * 1024)
        .toString("base64")
        .match(/.{1,76}/g) ?? [];
    const big = Buffer.from(rfc822({ subject: "Large", body: lines.join("\r\n") }));
    const { path, uid } = await seedOne(USER, big.toString());
    const out = await download(tlsConnection(USER), { mailbox: path, uid: String(uid) });
    expect(out.data.length).toBe(big.length);
    expect(createHash("sha256").update(out.data).digest("hex")).toBe(
      createHash("sha256").update(big).digest("hex"),
    );
    const again = await stored(USER, path, uid);
    expect(Buffer.from(again.source).equals(out.data)).toBe(true);
  });

  test("works on a non-ASCII mailbox name", async () => {
    const message = rfc822({ subject: "Grüße" });
    const { path, uid } = await seedOne(USER, message, `${uniqueName("Projekte")}/Grüße & 日本語`);
    const out = await download(tlsConnection(USER), { mailbox: path, uid: String(uid) });
    expect(out.contentType).toBe("message/rfc822");
    expect(out.data.toString("utf8")).toBe(message);
  });

  test("an unknown part id is a clear error naming it", async () => {
    const { path, uid } = await seedOne(USER, MULTIPART);
    const err = await failure(() =>
      download(tlsConnection(USER), { mailbox: path, uid: String(uid), part: "9" }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("PART_NOT_FOUND");
    expect(err.message).toBe(
      `The message has no body part 9 (UID ${uid} in mailbox "${path}"). Get Message lists the attachments with their partId.`,
    );
  });

  test("a UID that names no message is a clear error", async () => {
    const { path, uid } = await seedOne(USER, MULTIPART);
    const err = await failure(() =>
      download(tlsConnection(USER), { mailbox: path, uid: String(uid + 5) }),
    );
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
    expect(err.message).toBe(
      `There is no message with UID ${uid + 5} in mailbox "${path}": it was deleted or moved, or the UID belongs to another mailbox. Search the mailbox again for its current UIDs.`,
    );
  });

  test.each([
    ["uid", "abc", 'UID "abc" is not a message UID: give one positive whole number, e.g. 42.'],
    ["uid", "0", "UID 0 is out of range: UIDs run from 1 to 4294967295."],
    [
      "part",
      "a.b",
      'Part ID "a.b" is not a body part number: give one such as 2 or 1.2 (the partId of an attachment from Get Message).',
    ],
    [
      "part",
      "1..2",
      'Part ID "1..2" is not a body part number: give one such as 2 or 1.2 (the partId of an attachment from Get Message).',
    ],
  ])("%s %j fails before connecting", async (key, value, message) => {
    const err = await failure(() =>
      download(NOWHERE, { mailbox: "INBOX", uid: "1", [key]: value }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(message);
  });
});
