/**
 * The Gmail paths (X-GM-EXT-1), against the real Dovecot behind test/gmailProxy.ts, which answers
 * as Google's published IMAP extension document specifies; its example values are the fixtures.
 * Verified against that specification, not against Gmail itself.
 */
import { InputError } from "../src/errors";
import type { GmailAccount } from "./gmailProxy";
import { gmailAccount, gmailProxy, parseAstrings } from "./gmailProxy";
import {
  failure,
  harness,
  legacyConnection,
  rfc822,
  seedMailbox,
  tlsConnection,
  withDirect,
  withDirectMailbox,
} from "./helpers";
import type { Proxy as ProxyHandle } from "./rewriteProxy";

const USER = "test35";
const NOWHERE = tlsConnection(USER, { port: "1" });

// The values of the examples in Google's document.
const THREAD = "1266894439832287888";
const OTHER_THREAD = "1266894407769532481";
const MESSAGE_ID = "1278455344230334865";
const LABELS = ["\\Inbox", "\\Sent", "Important", "Muy Importante"];

interface Summary {
  uid: number;
  labels?: string[];
  threadId?: string;
  emailId?: string;
}

let proxy: ProxyHandle;
let account: GmailAccount;
let box: { path: string; uids: number[] };

const gmail = () => legacyConnection(USER, { port: String(proxy.port) });
const sentWith = (pattern: RegExp) => account.sent.filter((line) => pattern.test(line));

beforeAll(async () => {
  box = await seedMailbox(USER, { prefix: "gmail", count: 3, subject: (i) => `Gmail ${i + 1}` });
  const [a = 0, b = 0, c = 0] = box.uids;
  await withDirect(USER, (client) => client.mailboxCreate("[Gmail]/All Mail"));
  account = gmailAccount({
    labels: new Map([
      [a, [...LABELS]],
      [b, ["foo"]],
      [c, []],
    ]),
    threadIds: new Map([
      [a, THREAD],
      [b, THREAD],
      [c, OTHER_THREAD],
    ]),
    messageIds: new Map([
      [a, MESSAGE_ID],
      [b, "1278455344230334866"],
      [c, "1278455344230334867"],
    ]),
    rawQueries: { "has:attachment in:unread": `UID ${a},${c}` },
    allMail: "[Gmail]/All Mail",
  });
  proxy = await gmailProxy(account);
});

afterAll(async () => {
  await proxy.close();
});

beforeEach(() => {
  account.sent.length = 0;
});

test("the proxy reads label lists as the document writes them", () => {
  expect(parseAstrings('\\Inbox \\Sent Important "Muy Importante"')).toEqual(LABELS);
});

describe("searchMailbox on Gmail", () => {
  test("gmailQuery is sent as X-GM-RAW and the summaries carry labels, threadId and emailId", async () => {
    const { data } = (await harness.action("searchMailbox", {
      connection: gmail(),
      mailbox: box.path,
      gmailQuery: "has:attachment in:unread",
    })) as { data: { messages: Summary[] } };
    expect(sentWith(/UID SEARCH/)[0]).toMatch(/ X-GM-RAW "has:attachment in:unread"$/);
    const [a, , c] = box.uids;
    expect(
      data.messages.map(({ uid, labels, threadId, emailId }) => ({
        uid,
        labels,
        threadId,
        emailId,
      })),
    ).toEqual([
      { uid: c, labels: [], threadId: OTHER_THREAD, emailId: "1278455344230334867" },
      { uid: a, labels: LABELS, threadId: THREAD, emailId: MESSAGE_ID },
    ]);
  });

  test("gmailQuery combines with the other criteria (ANDed)", async () => {
    const { data } = (await harness.action("searchMailbox", {
      connection: gmail(),
      mailbox: box.path,
      gmailQuery: "has:attachment in:unread",
      subject: "Gmail 3",
    })) as { data: { messages: Summary[] } };
    expect(sentWith(/UID SEARCH/)[0]).toMatch(
      /SUBJECT "Gmail 3" X-GM-RAW "has:attachment in:unread"$/,
    );
    expect(data.messages.map((m) => m.uid)).toEqual([box.uids[2]]);
  });

  test("threadId is sent as X-GM-THRID and finds the conversation", async () => {
    const { data } = (await harness.action("searchMailbox", {
      connection: gmail(),
      mailbox: box.path,
      threadId: THREAD,
    })) as { data: { messages: Summary[] } };
    expect(sentWith(/UID SEARCH/)[0]).toMatch(new RegExp(` X-GM-THRID ${THREAD}$`));
    expect(data.messages.map((m) => m.uid)).toEqual([box.uids[1], box.uids[0]]);
  });

  test("on a server that is not Gmail, gmailQuery fails before searching and says so", async () => {
    const err = await failure(() =>
      harness.action("searchMailbox", {
        connection: tlsConnection(USER),
        mailbox: box.path,
        gmailQuery: "has:attachment",
      }),
    );
    expect(err.code).toBe("NOT_GMAIL");
    expect(err.message).toBe(
      `Gmail Query is Gmail's own search (X-GM-RAW), and the server at 127.0.0.1 is not Gmail (it does not announce X-GM-EXT-1), so the mailbox "${box.path}" was not searched. Remove it and search with the other criteria.`,
    );
  });

  test("on a server without thread ids, threadId fails with the extension it needs", async () => {
    const err = await failure(() =>
      harness.action("searchMailbox", {
        connection: tlsConnection(USER),
        mailbox: box.path,
        threadId: THREAD,
      }),
    );
    expect(err.code).toBe("MISSING_EXTENSION");
  });

  test("a server that offers none of them: the summaries have no labels, threadId or emailId keys", async () => {
    const { data } = (await harness.action("searchMailbox", {
      connection: tlsConnection(USER),
      mailbox: box.path,
      limit: "1",
    })) as { data: { messages: Record<string, unknown>[] } };
    expect(Object.keys(data.messages[0] ?? {}).sort()).toEqual([
      "envelope",
      "flags",
      "internalDate",
      "size",
      "uid",
    ]);
  });
});

test("getMessage on Gmail carries labels, threadId and emailId, and the mailbox's uidValidity", async () => {
  const uid = box.uids[0] as number;
  const { data } = (await harness.action("getMessage", {
    connection: gmail(),
    mailbox: box.path,
    uid: String(uid),
  })) as { data: Summary & { uidValidity: string; subject: string } };
  const uidValidity = await withDirect(USER, async (client) => {
    const status = await client.status(box.path, { uidValidity: true });
    return status ? String(status.uidValidity) : "";
  });
  expect(data).toMatchObject({
    uid,
    uidValidity,
    subject: "Gmail 1",
    labels: LABELS,
    threadId: THREAD,
    emailId: MESSAGE_ID,
  });
});

describe("addLabels and removeLabels", () => {
  test("addLabels sends +X-GM-LABELS and returns the labels read back", async () => {
    const uid = box.uids[0] as number;
    const { data } = (await harness.action("addLabels", {
      connection: gmail(),
      mailbox: box.path,
      uids: String(uid),
      labels: ["foo"],
    })) as { data: unknown };
    expect(sentWith(/X-GM-LABELS \(/)).toEqual([
      expect.stringMatching(new RegExp(`UID STORE ${uid} \\+X-GM-LABELS \\(foo\\)$`)),
    ]);
    expect(data).toEqual({ mailbox: box.path, messages: [{ uid, labels: [...LABELS, "foo"] }] });
    expect(account.labels.get(uid)).toEqual([...LABELS, "foo"]);
  });

  test("removeLabels sends -X-GM-LABELS, quoting a label with a space", async () => {
    const uid = box.uids[0] as number;
    const { data } = (await harness.action("removeLabels", {
      connection: gmail(),
      mailbox: box.path,
      uids: String(uid),
      labels: ["Muy Importante", "foo"],
    })) as { data: unknown };
    expect(sentWith(/X-GM-LABELS \(/)).toEqual([
      expect.stringMatching(
        new RegExp(`UID STORE ${uid} -X-GM-LABELS \\("Muy Importante" foo\\)$`),
      ),
    ]);
    expect(data).toEqual({
      mailbox: box.path,
      messages: [{ uid, labels: ["\\Inbox", "\\Sent", "Important"] }],
    });
  });

  test("a label beyond ASCII travels in modified UTF-7 and comes back as typed", async () => {
    const uid = box.uids[2] as number;
    const labels = ["Überweisung", "Q&A", "請求書"];
    const added = (await harness.action("addLabels", {
      connection: gmail(),
      mailbox: box.path,
      uids: String(uid),
      labels,
    })) as { data: unknown };
    // RFC 3501 5.1.3: Ü (U+00DC) is &ANw-, a literal & is &-, 請求書 (U+8ACB U+6C42 U+66F8) one base64 run.
    expect(sentWith(/X-GM-LABELS \(/)).toEqual([
      expect.stringMatching(
        new RegExp(`UID STORE ${uid} \\+X-GM-LABELS \\(&ANw-berweisung Q&-A &istsQmb4-\\)$`),
      ),
    ]);
    expect(account.labels.get(uid)).toEqual(labels);
    expect(added.data).toEqual({ mailbox: box.path, messages: [{ uid, labels }] });

    const removed = (await harness.action("removeLabels", {
      connection: gmail(),
      mailbox: box.path,
      uids: String(uid),
      labels,
    })) as { data: unknown };
    expect(removed.data).toEqual({ mailbox: box.path, messages: [{ uid, labels: [] }] });
    expect(account.labels.get(uid)).toEqual([]);
  });

  test("with a uidValidity the mailbox no longer has, no label changes", async () => {
    const err = await failure(() =>
      harness.action("addLabels", {
        connection: gmail(),
        mailbox: box.path,
        uids: String(box.uids[1]),
        labels: ["bar"],
        uidValidity: "1",
      }),
    );
    expect(err.code).toBe("UIDVALIDITY_CHANGED");
    expect(sentWith(/X-GM-LABELS \(/)).toEqual([]);
    expect(account.labels.get(box.uids[1] as number)).toEqual(["foo"]);
  });

  test("a UID that does not exist changes no label", async () => {
    const err = await failure(() =>
      harness.action("addLabels", {
        connection: gmail(),
        mailbox: box.path,
        uids: "999999",
        labels: ["foo"],
      }),
    );
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
    expect(sentWith(/X-GM-LABELS \(/)).toEqual([]);
  });

  test("on a server that is not Gmail: a clear error before anything is sent", async () => {
    const err = await failure(() =>
      harness.action("addLabels", {
        connection: tlsConnection(USER),
        mailbox: box.path,
        uids: String(box.uids[1]),
        labels: ["foo"],
      }),
    );
    expect(err.code).toBe("NOT_GMAIL");
    expect(err.message).toBe(
      "Could not add labels: labels exist on Gmail only, and the server at 127.0.0.1 is not Gmail (it does not announce X-GM-EXT-1). Nothing was changed. On other servers use Add Flags with a keyword, or Move Messages to a folder.",
    );
  });

  test("empty labels fail before connecting", async () => {
    const err = await failure(() =>
      harness.action("addLabels", { connection: NOWHERE, mailbox: "INBOX", uids: "1", labels: [] }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe("Labels is empty: give at least one label, e.g. Invoices.");
  });
});

test("the newEmails trigger on Gmail delivers labels, threadId and emailId", async () => {
  const quiet = () => undefined;
  const logger = {
    metric: quiet,
    trace: quiet,
    debug: quiet,
    info: quiet,
    log: quiet,
    warn: quiet,
    error: quiet,
  };
  const instanceState: Record<string, unknown> = {};
  const params = { connection: gmail(), mailbox: box.path };
  await harness.trigger("newEmails", {}, params, { instanceState, logger });
  const uid = await withDirect(USER, async (client) => {
    const result = await client.append(box.path, rfc822({ subject: "Gmail new" }));
    if (!result || !result.uid) throw new Error("append failed");
    return result.uid;
  });
  account.labels.set(uid, ["\\Inbox", "Invoices"]);
  account.threadIds.set(uid, OTHER_THREAD);
  account.messageIds.set(uid, "1278455344230334868");
  const result = (await harness.trigger("newEmails", {}, params, {
    instanceState,
    logger,
  })) as unknown as {
    payload: { body: { data: { messages: Summary[] } } };
  };
  expect(
    result.payload.body.data.messages.map(({ uid, labels, threadId, emailId }) => ({
      uid,
      labels,
      threadId,
      emailId,
    })),
  ).toEqual([
    {
      uid,
      labels: ["\\Inbox", "Invoices"],
      threadId: OTHER_THREAD,
      emailId: "1278455344230334868",
    },
  ]);
});

test("archiveMessage on Gmail moves to All Mail (\\All), the only neighbour untouched", async () => {
  const uid = box.uids[2] as number;
  const { data } = (await harness.action("archiveMessage", {
    connection: gmail(),
    mailbox: box.path,
    uids: String(uid),
  })) as { data: { destination: string; destinationUids: number[] } };
  expect(data.destination).toBe("[Gmail]/All Mail");
  const archived = await withDirectMailbox(USER, "[Gmail]/All Mail", { readOnly: true }, (client) =>
    client.fetchAll("1:*", { uid: true, envelope: true }, { uid: true }),
  );
  // All Mail keeps what earlier runs archived: only what arrived with this move counts.
  expect(
    archived
      .filter((m) => m.uid >= (data.destinationUids[0] ?? 0))
      .map((m) => [m.uid, m.envelope?.subject]),
  ).toEqual([[data.destinationUids[0], "Gmail 3"]]);
  const left = await withDirectMailbox(USER, box.path, { readOnly: true }, (client) =>
    client.fetchAll("1:*", { uid: true }, { uid: true }),
  );
  expect(left.map((m) => m.uid).slice(0, 2)).toEqual([box.uids[0], box.uids[1]]);
  expect(left.map((m) => m.uid)).not.toContain(uid);
});
