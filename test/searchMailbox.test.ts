import type { Connection } from "@prismatic-io/spectral";
import { ImapError, InputError } from "../src/errors";
import {
  failure,
  flagsByUid,
  harness,
  legacyConnection,
  rfc822,
  seedMailbox,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
} from "./helpers";

interface Page {
  mailbox: string;
  uidValidity: string;
  total: number;
  messages: {
    uid: number;
    flags: string[];
    size: number;
    internalDate: string | null;
    envelope: Record<string, unknown>;
  }[];
  nextCursor: string | null;
}

async function search(
  connection: Connection,
  params: Record<string, unknown>,
  context = {},
): Promise<Page> {
  const { data } = (await harness.action("searchMailbox", { connection, ...params }, context)) as {
    data: Page;
  };
  return data;
}

const uidsOf = (page: Page) => page.messages.map((message) => message.uid);

/** Six messages with known senders, dates, flags and sizes; fixture[i] gets UID i + 1. */
const FIXTURE = [
  {
    from: "Alice Example <alice@example.com>",
    to: "Bob Example <bob@example.com>",
    subject: "Invoice 1001",
    body: "Please pay order 1001.",
    day: "2026-01-10",
    flags: ["\\Seen"],
  },
  {
    from: "Carol <carol@example.com>",
    to: "Bob Example <bob@example.com>",
    subject: "Meeting notes",
    body: "Notes attached.",
    day: "2026-01-15",
    flags: ["\\Flagged"],
  },
  {
    from: "Alice Example <alice@example.com>",
    to: "Dave <dave@example.com>",
    subject: "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=",
    body: "Schöne Grüße",
    day: "2026-02-01",
    flags: ["\\Seen", "\\Flagged"],
  },
  {
    from: "Bob Example <bob@example.com>",
    to: "Alice Example <alice@example.com>",
    subject: "Re: Invoice 1001",
    body: `Paid. ${"x".repeat(5000)}`,
    day: "2026-02-20",
    flags: ["$Done"],
    headers: ["Cc: Carol <carol@example.com>"],
  },
  {
    from: "Dave <dave@example.com>",
    to: "Bob Example <bob@example.com>",
    subject: "Hello",
    body: "The invoice is attached.",
    day: "2026-03-05",
    flags: [],
    headers: ["X-Priority: 1"],
  },
  {
    from: "Alice Example <alice@example.com>",
    to: "Bob Example <bob@example.com>",
    subject: "Old draft",
    body: "draft",
    day: "2026-03-06",
    flags: ["\\Draft", "\\Deleted"],
  },
];

function sentHeader(day: string): string {
  return new Date(`${day}T09:00:00Z`).toUTCString().replace("GMT", "+0000");
}

async function seedFixture(user: string): Promise<string> {
  const path = uniqueName("Search");
  await withDirect(user, async (client) => {
    await client.mailboxCreate(path);
    for (const m of FIXTURE) {
      const raw = rfc822({
        ...m,
        date: sentHeader(m.day),
        headers: [...(m.headers ?? []), "Content-Transfer-Encoding: 8bit"],
      });
      const appended = await client.append(path, raw, m.flags, new Date(`${m.day}T12:00:00Z`));
      if (!appended || !appended.uid) throw new Error("append failed");
    }
  });
  return path;
}

const servers: [string, (user: string) => Connection][] = [
  ["main (ESEARCH, WITHIN, CONDSTORE)", tlsConnection],
  ["legacy (plain IMAP4rev1)", legacyConnection],
];

describe.each(servers)("searchMailbox criteria on the %s server", (_name, connect) => {
  const USER = "test10";
  let mailbox = "";
  beforeAll(async () => {
    mailbox = await seedFixture(USER);
  });

  const cases: [string, Record<string, unknown>, number[]][] = [
    ["no criteria lists everything", {}, [6, 5, 4, 3, 2, 1]],
    ["the largest limit", { limit: "1000" }, [6, 5, 4, 3, 2, 1]],
    ["from", { from: "alice" }, [6, 3, 1]],
    ["to", { to: "bob@example.com" }, [6, 5, 2, 1]],
    ["subject (case-insensitive)", { subject: "invoice" }, [4, 1]],
    ["body: text anywhere, headers or body", { body: "invoice" }, [5, 4, 1]],
    ["since includes its day", { since: "2026-02-01" }, [6, 5, 4, 3]],
    ["before excludes its day", { before: "2026-02-01" }, [2, 1]],
    ["since and before", { since: "2026-01-15", before: "2026-02-20" }, [3, 2]],
    ["a midnight timestamp is that day", { since: "2026-03-05T00:00:00Z" }, [6, 5]],
    ["readStatus unread", { readStatus: "unread" }, [6, 5, 4, 2]],
    ["readStatus read", { readStatus: "read" }, [3, 1]],
    ["readStatus all", { readStatus: "all" }, [6, 5, 4, 3, 2, 1]],
    ["flagged", { flagged: "flagged" }, [3, 2]],
    ["unflagged", { flagged: "unflagged" }, [6, 5, 4, 1]],
    ["inputs are ANDed", { from: "alice", readStatus: "read", flagged: "flagged" }, [3]],
    ["non-ASCII text", { subject: "Grüße" }, [3]],
    ["criteria: larger", { criteria: '{"larger": 3000}' }, [4]],
    ["criteria: smaller 0 is kept (matches nothing)", { criteria: '{"smaller": 0}' }, []],
    ["criteria: keyword", { criteria: '{"keyword": "$Done"}' }, [4]],
    [
      "criteria: unKeyword and seen false",
      { criteria: '{"unKeyword": "$Done", "seen": false}' },
      [6, 5, 2],
    ],
    ["criteria: not", { criteria: '{"not": {"keyword": "$Done"}}' }, [6, 5, 3, 2, 1]],
    [
      "criteria: not of several keys",
      { criteria: '{"not": {"from": "alice", "seen": true}}' },
      [6, 5, 4, 2],
    ],
    [
      "criteria: or of two",
      { criteria: '{"or": [{"from": "carol"}, {"subject": "hello"}]}' },
      [5, 2],
    ],
    [
      "criteria: or of three",
      { criteria: '{"or": [{"from": "carol"}, {"subject": "hello"}, {"cc": "carol"}]}' },
      [5, 4, 2],
    ],
    ["criteria: header value", { criteria: '{"header": {"X-Priority": "1"}}' }, [5]],
    ["criteria: header present", { criteria: '{"header": {"X-Priority": true}}' }, [5]],
    ["criteria: cc", { criteria: '{"cc": "carol"}' }, [4]],
    ["criteria: uid range", { criteria: '{"uid": "2:4"}' }, [4, 3, 2]],
    ["criteria: open uid range", { criteria: '{"uid": "5:*"}' }, [6, 5]],
    [
      "criteria: open uid range above the newest matches nothing",
      { criteria: '{"uid": "100:*"}' },
      [],
    ],
    ["criteria: deleted and draft", { criteria: '{"deleted": true, "draft": true}' }, [6]],
    ["criteria: sentBefore (Date header)", { criteria: '{"sentBefore": "2026-01-12"}' }, [1]],
    ["criteria: on", { criteria: '{"on": "2026-02-20"}' }, [4]],
    ["criteria: text in the body", { criteria: '{"text": "Schöne"}' }, [3]],
    ["criteria: keys in any case", { criteria: '{"FROM": "dave"}' }, [5]],
    ["criteria: all", { criteria: '{"all": true}' }, [6, 5, 4, 3, 2, 1]],
    [
      "criteria as an object from an earlier step",
      { criteria: { or: [{ on: "2026-01-10" }, { on: "2026-03-06" }] } },
      [6, 1],
    ],
    ["criteria with inputs", { subject: "invoice", criteria: '{"not": {"from": "bob"}}' }, [1]],
  ];

  test.each(cases)("%s", async (_label, params, expected) => {
    const page = await search(connect(USER), { mailbox, ...params });
    expect(uidsOf(page)).toEqual(expected);
    expect(page.total).toBe(expected.length);
    expect(page.nextCursor).toBeNull();
  });

  test("returns flags (without \\Recent), size, arrival date and the full envelope", async () => {
    const page = await search(connect(USER), { mailbox, criteria: '{"uid": "4"}' });
    const direct = await withDirectMailbox(USER, mailbox, { readOnly: true }, async (client) => {
      const message = await client.fetchOne("4", { size: true, envelope: true }, { uid: true });
      if (!message || !client.mailbox) throw new Error(`UID 4 not in ${mailbox}`);
      return {
        size: message.size,
        messageId: message.envelope?.messageId,
        uidValidity: String(client.mailbox.uidValidity),
      };
    });
    expect(page).toEqual({
      mailbox,
      uidValidity: direct.uidValidity,
      total: 1,
      messages: [
        {
          uid: 4,
          flags: ["$Done"],
          size: direct.size,
          internalDate: "2026-02-20T12:00:00.000Z",
          envelope: {
            date: "2026-02-20T09:00:00.000Z",
            subject: "Re: Invoice 1001",
            messageId: direct.messageId,
            inReplyTo: "",
            from: [{ name: "Bob Example", address: "bob@example.com" }],
            to: [{ name: "Alice Example", address: "alice@example.com" }],
            cc: [{ name: "Carol", address: "carol@example.com" }],
            bcc: [],
            replyTo: [{ name: "Bob Example", address: "bob@example.com" }],
            sender: [{ name: "Bob Example", address: "bob@example.com" }],
          },
        },
      ],
      expungedMeanwhile: 0,
      nextCursor: null,
    });
    expect(page.messages[0].size).toBeGreaterThan(5000);
    expect(JSON.parse(JSON.stringify(page))).toEqual(page);
  });
});

describe("searchMailbox paging", () => {
  const USER = "test11";

  test("following the cursors yields every match exactly once, newest first, while mail arrives and leaves", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 23 });
    const delivered: number[] = [];
    const totals: number[] = [];
    let cursor = "";
    let pages = 0;
    const expunged = uids[3];
    do {
      const page = await search(tlsConnection(USER), { mailbox: path, limit: "5", cursor });
      delivered.push(...uidsOf(page));
      totals.push(page.total);
      cursor = page.nextCursor ?? "";
      pages += 1;
      await withDirect(USER, async (client) => {
        await client.append(path, rfc822({ subject: `Arrived after page ${pages}` }));
        if (pages === 2) {
          const lock = await client.getMailboxLock(path);
          try {
            await client.messageDelete(String(expunged), { uid: true });
          } finally {
            lock.release();
          }
        }
      });
    } while (cursor && pages < 20);
    const expected = [...uids].reverse().filter((uid) => uid !== expunged);
    expect(delivered).toEqual(expected);
    expect(pages).toBe(5);
    // total counts what this chain walks: new mail is not part of it; the expunged message leaves it.
    expect(totals).toEqual([23, 23, 22, 22, 22]);
    const fresh = await search(tlsConnection(USER), { mailbox: path, limit: "2" });
    expect(fresh.total).toBe(22 + 5);
    expect(fresh.messages.map((message) => message.envelope.subject)).toEqual([
      "Arrived after page 5",
      "Arrived after page 4",
    ]);
  });

  test("paging a filtered search on the legacy server", async () => {
    const { path, uids } = await seedMailbox(USER, {
      count: 9,
      flags: (i) => (i % 3 === 0 ? ["\\Flagged"] : []),
    });
    const flagged = uids.filter((_uid, i) => i % 3 === 0).reverse();
    const first = await search(legacyConnection(USER), {
      mailbox: path,
      flagged: "flagged",
      limit: "2",
    });
    expect(uidsOf(first)).toEqual(flagged.slice(0, 2));
    expect(first.total).toBe(3);
    const second = await search(legacyConnection(USER), {
      mailbox: path,
      flagged: "flagged",
      limit: "2",
      cursor: first.nextCursor,
    });
    expect(uidsOf(second)).toEqual(flagged.slice(2));
    expect(second.nextCursor).toBeNull();
  });

  test("a page of exactly the remaining messages ends the chain; an empty mailbox is one empty page", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 4 });
    const first = await search(tlsConnection(USER), { mailbox: path, limit: "4" });
    expect(uidsOf(first)).toEqual([...uids].reverse());
    expect(first.nextCursor).toBeNull();
    const empty = uniqueName("Empty");
    await withDirect(USER, (client) => client.mailboxCreate(empty));
    const page = await search(tlsConnection(USER), { mailbox: empty });
    const uidValidity = await withDirect(USER, async (client) => {
      const status = await client.status(empty, { uidValidity: true });
      return status ? String(status.uidValidity) : "status refused";
    });
    expect(page).toEqual({
      mailbox: empty,
      uidValidity,
      total: 0,
      messages: [],
      expungedMeanwhile: 0,
      nextCursor: null,
    });
  });
});

describe("searchMailbox cursors", () => {
  const USER = "test12";

  test("a cursor from before the mailbox was recreated (another UIDVALIDITY) is a clear error", async () => {
    const { path } = await seedMailbox(USER, { count: 3 });
    const first = await search(tlsConnection(USER), { mailbox: path, limit: "1" });
    expect(first.nextCursor).not.toBeNull();
    await withDirect(USER, async (client) => {
      await client.mailboxDelete(path);
      await client.mailboxCreate(path);
      for (let i = 0; i < 3; i += 1) await client.append(path, rfc822({ subject: `New ${i}` }));
    });
    const now = await search(tlsConnection(USER), { mailbox: path, limit: "1" });
    expect(now.uidValidity).not.toBe(first.uidValidity);
    const err = await failure(() =>
      search(tlsConnection(USER), { mailbox: path, limit: "1", cursor: first.nextCursor }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("CURSOR_INVALID");
    expect(err.message).toBe(
      `The cursor was made for an earlier incarnation of mailbox "${path}" (UIDVALIDITY ${first.uidValidity}, now ${now.uidValidity}): the mailbox was recreated or reset, so its UIDs no longer name the same messages. Start again without a cursor.`,
    );
  });

  test("a cursor is bound to its mailbox and criteria, not to the limit", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 5 });
    const first = await search(tlsConnection(USER), {
      mailbox: path,
      subject: "Message",
      limit: "2",
    });
    const next = await search(tlsConnection(USER), {
      mailbox: path,
      subject: "Message",
      limit: "3",
      cursor: first.nextCursor,
    });
    expect(uidsOf(next)).toEqual([uids[2], uids[1], uids[0]]);
    const changed = await failure(() =>
      search(tlsConnection(USER), { mailbox: path, subject: "Other", cursor: first.nextCursor }),
    );
    expect(changed).toBeInstanceOf(InputError);
    expect(changed.message).toBe(
      "Cursor belongs to another search: the mailbox or the criteria changed since its first page. Pass nextCursor of the previous page unchanged, or leave Cursor empty to start again from the newest message.",
    );
    const otherBox = await failure(() =>
      search(tlsConnection(USER), {
        mailbox: "INBOX",
        subject: "Message",
        cursor: first.nextCursor,
      }),
    );
    expect(otherBox).toBeInstanceOf(InputError);
    expect(otherBox.message).toBe(changed.message);
  });
});

describe("searchMailbox input checks (before connecting)", () => {
  const USER = "test13";
  // Nothing listens on port 1: an InputError proves nothing was attempted on the network.
  const offline = tlsConnection(USER, { port: "1" });

  const NOT_A_DATE =
    " is not a date: give a calendar date as YYYY-MM-DD, e.g. 2026-11-24. IMAP compares whole days, so a time of day cannot be searched for.";
  const bad: [string, Record<string, unknown>, string | RegExp][] = [
    ["empty mailbox", { mailbox: "" }, "Mailbox is empty: give a mailbox path such as INBOX."],
    ["a date that does not exist", { since: "2026-02-30" }, `Since "2026-02-30"${NOT_A_DATE}`],
    ["a relative date", { before: "yesterday" }, `Before "yesterday"${NOT_A_DATE}`],
    [
      "a timestamp with a time of day",
      { since: "2026-11-24T10:00:00Z" },
      `Since "2026-11-24T10:00:00Z"${NOT_A_DATE}`,
    ],
    [
      "since not before before",
      { since: "2026-03-01", before: "2026-03-01" },
      "Since (2026-03-01) is not before Before (2026-03-01): no message can match. Since includes its day, Before excludes its day.",
    ],
    [
      "readStatus",
      { readStatus: "maybe" },
      'Read Status must be one of "all", "unread", "read", not "maybe".',
    ],
    [
      "flagged",
      { flagged: "yes" },
      'Flagged must be one of "any", "flagged", "unflagged", not "yes".',
    ],
    ["limit 0", { limit: "0" }, "Limit must be from 1 to 1000, not 0."],
    ["limit 1001", { limit: "1001" }, "Limit must be from 1 to 1000, not 1001."],
    ["limit text", { limit: "ten" }, 'Limit "ten" is not a whole number.'],
    ["criteria not JSON", { criteria: "{from: x}" }, /^criteria is not valid JSON/],
    [
      "criteria a list",
      { criteria: "[1]" },
      'criteria must be a JSON object such as {"larger": 10000}, not [1].',
    ],
    [
      "unknown key",
      { criteria: '{"frm": "alice"}' },
      /^criteria\.frm: unknown search key "frm"\. Known keys: answered, /,
    ],
    [
      "unknown key deep inside",
      { criteria: '{"or": [{"from": "a"}, {"not": {"sbject": "x"}}]}' },
      /^criteria\.or\[1\]\.not\.sbject: unknown search key "sbject"/,
    ],
    [
      "seq",
      { criteria: '{"seq": "1:10"}' },
      'criteria.seq: "seq" selects messages by sequence number, which shifts whenever another message is deleted. Use "uid" instead.',
    ],
    [
      "empty text",
      { criteria: '{"subject": ""}' },
      "criteria.subject is empty: empty text matches every message. Leave the key out instead.",
    ],
    [
      "negative size",
      { criteria: '{"larger": -1}' },
      "criteria.larger must be a whole number from 0 to 4294967295, not -1.",
    ],
    [
      "new: false",
      { criteria: '{"new": false}' },
      'criteria.new can only be true (to negate it, use {"not": {"new": true}}), not false.',
    ],
    [
      "seen not boolean",
      { criteria: '{"seen": "yes"}' },
      'criteria.seen must be true or false, not "yes".',
    ],
    [
      "empty or",
      { criteria: '{"or": []}' },
      "criteria.or must be a list of search objects, not [].",
    ],
    [
      "empty not",
      { criteria: '{"not": {}}' },
      /^criteria\.not must be a search object with at least one key/,
    ],
    [
      "system flag as keyword",
      { criteria: '{"keyword": "\\\\Seen"}' },
      /^criteria\.keyword: \\Seen is a system flag, not a keyword/,
    ],
    [
      "header false",
      { criteria: '{"header": {"X-Spam": false}}' },
      "criteria.header.X-Spam must be text, not false.",
    ],
    ["bad uid set", { criteria: '{"uid": "1;2"}' }, /^criteria\.uid "1;2" is not a UID set/],
    [
      "bad date in criteria",
      { criteria: '{"sentSince": "24 Nov 2026"}' },
      /^criteria\.sentSince "24 Nov 2026" is not a date/,
    ],
    [
      "malformed cursor",
      { cursor: "not-a-cursor" },
      'Cursor "not-a-cursor" is not a cursor of Search / List Mailbox Messages (it may be cut off). Pass nextCursor of the previous page unchanged, or leave Cursor empty to start again from the newest message.',
    ],
    [
      "a line break in a text input",
      { subject: "a\nb" },
      'Subject "a\nb" contains a line break or NUL, which IMAP cannot search for.',
    ],
  ];

  test.each(bad)("%s", async (_label, params, message) => {
    const err = await failure(() => search(offline, { mailbox: "INBOX", ...params }));
    expect(err).toBeInstanceOf(InputError);
    if (typeof message === "string") expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });

  test("a mailbox that does not exist is named", async () => {
    const missing = uniqueName("Missing");
    const err = await failure(() => search(tlsConnection(USER), { mailbox: missing }));
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toContain(`The mailbox "${missing}" does not exist.`);
  });

  test("modseq needs CONDSTORE: works on the main server, a clear error on the legacy one", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 2 });
    const page = await search(tlsConnection(USER), { mailbox: path, criteria: '{"modseq": 1}' });
    expect(uidsOf(page)).toEqual([...uids].reverse());
    const err = await failure(() =>
      search(legacyConnection(USER), { mailbox: path, criteria: '{"modseq": 1}' }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox]).toEqual(["MISSING_EXTENSION", path]);
    expect(err.message).toBe(
      `The search key "modseq" needs the CONDSTORE extension, which the server at 127.0.0.1 does not offer, so the mailbox "${path}" was not searched. Remove the key from the criteria.`,
    );
  });
});

describe("searchMailbox cost and side effects", () => {
  const USER = "test14";

  function wireLog() {
    const commands: string[] = [];
    const logger = {
      debug: (line: unknown) => {
        const match = /^imap debug: (.*)$/.exec(String(line));
        const entry = match ? (JSON.parse(match[1]) as { src?: string; msg?: string }) : {};
        if (entry.src === "c" && entry.msg) commands.push(entry.msg.replace(/^\S+ /, ""));
      },
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      metric: () => undefined,
    };
    return { commands, context: { logger, globalDebug: true } };
  }

  test("a page is one SEARCH and one FETCH of that page's UIDs, in a read-only session", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 12 });
    const first = await search(tlsConnection(USER), { mailbox: path, limit: "3" });
    const { commands, context } = wireLog();
    const second = await search(
      tlsConnection(USER),
      { mailbox: path, limit: "3", cursor: first.nextCursor },
      context,
    );
    expect(uidsOf(second)).toEqual([uids[8], uids[7], uids[6]]);
    const work = commands.filter((command) =>
      /^(SELECT|EXAMINE|UID |SEARCH|FETCH|STORE)/.test(command),
    );
    expect(work).toEqual([
      `EXAMINE ${path}`,
      `UID SEARCH RETURN (ALL) UID 1:${uids[11]}`,
      // no MODSEQ: the session does not ENABLE CONDSTORE, and nothing reads it
      `UID FETCH ${uids[6]}:${uids[8]} (UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (date subject from sender reply-to to cc bcc)])`,
    ]);
  });

  test("the legacy server gets a plain UID SEARCH with CHARSET for non-ASCII text", async () => {
    const { path } = await seedMailbox(USER, { count: 1 });
    const { commands, context } = wireLog();
    await search(
      legacyConnection(USER),
      { mailbox: path, subject: "Grüße", since: "2026-01-01" },
      context,
    );
    expect(commands.filter((command) => command.startsWith("UID SEARCH"))).toEqual([
      'UID SEARCH CHARSET UTF-8 SUBJECT "(* 7B literal *)" SINCE 1-Jan-2026',
    ]);
  });

  test("searching never marks messages as read", async () => {
    const { path } = await seedMailbox(USER, {
      count: 3,
      flags: (i) => (i === 0 ? ["\\Seen"] : []),
    });
    const before = await flagsByUid(USER, path);
    await search(tlsConnection(USER), { mailbox: path, body: "Body" });
    await search(legacyConnection(USER), { mailbox: path, readStatus: "unread" });
    expect(await flagsByUid(USER, path)).toEqual(before);
    expect(Object.values(before).filter((flags) => flags.includes("\\Seen"))).toHaveLength(1);
  });
});
