import { ImapError, InputError } from "../src/errors";
import {
  failure,
  harness,
  legacyConnection,
  rfc822,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
  withoutRecent,
} from "./helpers";

const USER = "test06";
const LEGACY_USER = "test08";
const NOWHERE = tlsConnection(USER, { port: "1" });

type Appended = {
  mailbox: string;
  uid: number;
  uidValidity: string;
  flags: string[];
  internalDateApplied: boolean | null;
};

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
    expect(out).toEqual({
      mailbox,
      uid: before.uidNext,
      uidValidity: before.uidValidity,
      flags: ["\\Seen", "$Sent"],
      internalDateApplied: true,
    });
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
    expect(out).toEqual({
      mailbox,
      uid: before.uidNext,
      uidValidity: before.uidValidity,
      flags: ["\\Draft"],
      internalDateApplied: null,
    });
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
    expect(out).toEqual({
      mailbox,
      uid: before.uidNext,
      uidValidity: before.uidValidity,
      flags: [],
      internalDateApplied: null,
    });
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
    expect(out).toEqual({ mailbox, uid: 1, uidValidity, flags: [], internalDateApplied: null });
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
