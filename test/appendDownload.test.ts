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
} from "./helpers";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test06";
const LEGACY_USER = "test08";
const NOWHERE = tlsConnection(USER, { port: "1" });

type Appended = { mailbox: string; uid: number; uidValidity: string };

async function newMailbox(user: string, path = uniqueName("append")): Promise<string> {
  await withDirect(user, (client) => client.mailboxCreate(path));
  return path;
}

async function status(
  user: string,
  path: string,
): Promise<{ uidNext: number; uidValidity: string; messages: number }> {
  return withDirect(user, async (client) => {
    const s = await client.status(path, { uidNext: true, uidValidity: true, messages: true });
    if (!s) throw new Error(`status of ${path} failed`);
    return {
      uidNext: s.uidNext ?? 0,
      uidValidity: String(s.uidValidity),
      messages: s.messages ?? 0,
    };
  });
}

/** Source, flags (without \Recent) and internal date of one message, read by a separate client. */
async function stored(
  user: string,
  path: string,
  uid: number,
): Promise<{ source: string; flags: string[]; internalDate: string }> {
  return withDirect(user, async (client) => {
    const lock = await client.getMailboxLock(path, { readOnly: true });
    try {
      const msg = await client.fetchOne(
        String(uid),
        { uid: true, source: true, flags: true, internalDate: true },
        { uid: true },
      );
      if (!msg || msg.uid !== uid) throw new Error(`UID ${uid} not in ${path}`);
      return {
        source: msg.source?.toString("utf8") ?? "",
        flags: Array.from(msg.flags ?? [])
          .filter((f) => f !== "\\Recent")
          .sort(),
        internalDate: new Date(msg.internalDate ?? 0).toISOString(),
      };
    } finally {
      lock.release();
    }
  });
}

async function append(connection: unknown, params: Record<string, unknown>): Promise<Appended> {
  const { data } = (await harness.action("appendMessage", { connection, ...params })) as {
    data: Appended;
  };
  return data;
}

describe("appendMessage", () => {
  test("stores the message with flags and internal date and returns its UID (UIDPLUS)", async () => {
    const mailbox = await newMailbox(USER);
    const before = await status(USER, mailbox);
    const message = rfc822({ subject: "Sent copy", messageId: "<sent-copy@example.com>" });
    const out = await append(tlsConnection(USER), {
      mailbox,
      message,
      flags: ["\\Seen", "$Sent"],
      internalDate: "2024-05-17T09:30:00Z",
    });
    expect(out).toEqual({ mailbox, uid: before.uidNext, uidValidity: before.uidValidity });
    expect(await stored(USER, mailbox, out.uid)).toEqual({
      source: message,
      flags: ["$Sent", "\\Seen"],
      internalDate: "2024-05-17T09:30:00.000Z",
    });
  });

  test("takes file data from an earlier step ({ data, contentType }) and a Buffer; bare LF becomes CRLF", async () => {
    const mailbox = await newMailbox(USER);
    const crlf = rfc822({ subject: "From a file" });
    const lf = crlf.replace(/\r\n/g, "\n");
    const fromFile = await append(tlsConnection(USER), {
      mailbox,
      message: { data: Buffer.from(lf), contentType: "message/rfc822" },
    });
    const fromBuffer = await append(tlsConnection(USER), {
      mailbox,
      message: Buffer.from(crlf),
      internalDate: "Fri, 17 May 2024 09:30:00 +0200",
    });
    expect(fromBuffer.uid).toBe(fromFile.uid + 1);
    expect((await stored(USER, mailbox, fromFile.uid)).source).toBe(crlf);
    expect(await stored(USER, mailbox, fromBuffer.uid)).toEqual({
      source: crlf,
      flags: [],
      internalDate: "2024-05-17T07:30:00.000Z",
    });
  });

  test("without UIDPLUS the UID is found by Message-ID, not confused with an older copy", async () => {
    const mailbox = await newMailbox(LEGACY_USER);
    const message = rfc822({ subject: "Again", messageId: "<again@example.com>" });
    await withDirect(LEGACY_USER, (client) => client.append(mailbox, message));
    await withDirect(LEGACY_USER, (client) => client.append(mailbox, rfc822({ subject: "Other" })));
    const before = await status(LEGACY_USER, mailbox);
    const out = await append(legacyConnection(LEGACY_USER), {
      mailbox,
      message,
      flags: ["\\Draft"],
    });
    expect(out).toEqual({ mailbox, uid: before.uidNext, uidValidity: before.uidValidity });
    const { source, flags } = await stored(LEGACY_USER, mailbox, out.uid);
    expect({ source, flags }).toEqual({ source: message, flags: ["\\Draft"] });
  });

  test("without UIDPLUS a message without Message-ID is refused before anything is stored", async () => {
    const mailbox = await newMailbox(LEGACY_USER);
    const message = "From: alice@example.com\r\nSubject: No id\r\n\r\nbody\r\n";
    const err = await failure(() => append(legacyConnection(LEGACY_USER), { mailbox, message }));
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MISSING_EXTENSION");
    expect(err.message).toBe(
      `Did not append the message to "${mailbox}": the server has no UIDPLUS extension, so the new message's UID can only be found by its Message-ID header, and this message has none. Add a Message-ID header (e.g. Message-ID: <unique-id@your-domain>) and retry.`,
    );
    expect((await status(LEGACY_USER, mailbox)).messages).toBe(0);
    // With UIDPLUS the same message is fine.
    const before = await status(LEGACY_USER, mailbox);
    const out = await append(tlsConnection(LEGACY_USER), { mailbox, message });
    expect(out).toEqual({ mailbox, uid: before.uidNext, uidValidity: before.uidValidity });
    expect((await stored(LEGACY_USER, mailbox, out.uid)).source).toBe(message);
  });

  test.each([
    ["main", USER],
    ["legacy", LEGACY_USER],
  ])("a non-ASCII mailbox name works (%s)", async (kind, user) => {
    const mailbox = await newMailbox(user, `${uniqueName("Projekte")}/Grüße & 日本語`);
    const { uidValidity } = await status(user, mailbox);
    const message = rfc822({ subject: "Grüße", body: "Grüße aus Köln" });
    const out = await append(kind === "main" ? tlsConnection(user) : legacyConnection(user), {
      mailbox,
      message,
    });
    expect(out).toEqual({ mailbox, uid: 1, uidValidity });
    expect((await stored(user, mailbox, 1)).source).toBe(message);
  });

  test("a missing mailbox is a clear error and is not created", async () => {
    const mailbox = uniqueName("missing");
    const err = await failure(() =>
      append(tlsConnection(USER), { mailbox, message: rfc822({ subject: "x" }) }),
    );
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toMatch(new RegExp(`^The mailbox "${mailbox}" does not exist\\.`));
    expect(
      (await withDirect(USER, (client) => client.list())).map((entry) => entry.path),
    ).not.toContain(mailbox);
  });

  const notADate = (value: string) =>
    `Internal Date ${JSON.stringify(value)} is not a date: use ISO 8601 such as 2024-05-17 or 2024-05-17T09:30:00Z (a time needs a zone: Z or +02:00), or a mail date such as "Fri, 17 May 2024 09:30:00 +0200".`;
  test.each<[string, Record<string, unknown>, string]>([
    [
      "an empty message",
      { message: "" },
      "Message is empty: give the raw message (RFC 5322 text: headers, a blank line, the body).",
    ],
    [
      "a blank message",
      { message: " \r\n " },
      "Message is empty: give the raw message (RFC 5322 text: headers, a blank line, the body).",
    ],
    [
      "text without headers",
      { message: "Hello Bob" },
      'Message does not start with a header field such as "From: ..." (it starts with "Hello Bob"). Give the raw RFC 5322 message: headers, a blank line, the body; remove an mbox "From " line.',
    ],
    [
      "an mbox From line",
      { message: "From alice@example.com Fri May 17 09:30:00 2024\r\nSubject: x\r\n\r\nx" },
      'Message does not start with a header field such as "From: ..." (it starts with "From alice@example.com Fri May 17 09:30:"). Give the raw RFC 5322 message: headers, a blank line, the body; remove an mbox "From " line.',
    ],
    [
      "an object",
      { message: { subject: "x" } },
      "Message must be the raw message (RFC 5322 text: headers, a blank line, the body) or file data from an earlier step, not an object or a number.",
    ],
    ["a relative date", { internalDate: "yesterday" }, notADate("yesterday")],
    ["a day that does not exist", { internalDate: "2024-02-30" }, notADate("2024-02-30")],
    [
      "a time without zone",
      { internalDate: "2024-05-17T09:30:00" },
      notADate("2024-05-17T09:30:00"),
    ],
    [
      "\\Recent",
      { flags: ["\\Recent"] },
      "Flags: \\Recent is set by the server alone and cannot be added, removed or set.",
    ],
    [
      "a flag with a space",
      { flags: ["$a b"] },
      'Flags: "$a b" is not a valid flag: keywords are ASCII without spaces, parentheses, braces, quotes, backslashes, %, *, ] or control characters (e.g. $Label1).',
    ],
  ])("%s fails before connecting", async (_name, params, message) => {
    const err = await failure(() =>
      append(NOWHERE, { mailbox: "INBOX", message: rfc822({ subject: "x" }), ...params }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(message);
  });
});

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
