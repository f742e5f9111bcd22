/**
 * RFC 8474 OBJECTID (EMAILID, THREADID) on a server that is not Gmail: the real Dovecot behind
 * test/gmailProxy.ts's objectIdProxy, answering in the RFC's syntax with its example ids.
 */
import type { GmailAccount } from "./gmailProxy";
import { gmailAccount, objectIdProxy } from "./gmailProxy";
import { failure, harness, legacyConnection, seedMailbox } from "./helpers";
import type { Proxy as ProxyHandle } from "./rewriteProxy";

const USER = "test37";
// EMAIL_ID and THREAD_ID are the ids of RFC 8474's examples; the others are made up alike.
const EMAIL_ID = "M6d99ac3275bb4e";
const THREAD_ID = "T64b478a75b7ea9";

let proxy: ProxyHandle;
let account: GmailAccount;
let box: { path: string; uids: number[] };

const connection = () => legacyConnection(USER, { port: String(proxy.port) });

beforeAll(async () => {
  box = await seedMailbox(USER, { prefix: "objectid", count: 3 });
  const [a = 0, b = 0, c = 0] = box.uids;
  account = gmailAccount({
    messageIds: new Map([
      [a, EMAIL_ID],
      [b, "M5fdc09b49ea703"],
      [c, "M8ab3c4b1f5e1c2"],
    ]),
    // c has no thread: the server answers THREADID NIL.
    threadIds: new Map([
      [a, THREAD_ID],
      [b, THREAD_ID],
    ]),
  });
  proxy = await objectIdProxy(account);
});

afterAll(async () => {
  await proxy.close();
});

test("summaries carry emailId and threadId; a message without a thread has no threadId key, and no labels key", async () => {
  const { data } = (await harness.action("searchMailbox", {
    connection: connection(),
    mailbox: box.path,
  })) as { data: { messages: Record<string, unknown>[] } };
  const [a, b, c] = box.uids;
  expect(
    data.messages.map((m) => ({
      uid: m.uid,
      emailId: m.emailId,
      threadId: m.threadId,
      labels: "labels" in m,
    })),
  ).toEqual([
    { uid: c, emailId: "M8ab3c4b1f5e1c2", threadId: undefined, labels: false },
    { uid: b, emailId: "M5fdc09b49ea703", threadId: THREAD_ID, labels: false },
    { uid: a, emailId: EMAIL_ID, threadId: THREAD_ID, labels: false },
  ]);
  expect(Object.keys(data.messages[0] ?? {})).not.toContain("threadId");
});

test("threadId is sent as THREADID (an atom) and finds the conversation", async () => {
  account.sent.length = 0;
  const { data } = (await harness.action("searchMailbox", {
    connection: connection(),
    mailbox: box.path,
    threadId: THREAD_ID,
  })) as { data: { messages: { uid: number }[] } };
  expect(account.sent.filter((line) => / UID SEARCH /.test(line))).toEqual([
    expect.stringMatching(new RegExp(` THREADID ${THREAD_ID}$`)),
  ]);
  expect(data.messages.map((m) => m.uid)).toEqual([box.uids[1], box.uids[0]]);
});

test("gmailQuery on a server with OBJECTID but not Gmail: NOT_GMAIL", async () => {
  const err = await failure(() =>
    harness.action("searchMailbox", {
      connection: connection(),
      mailbox: box.path,
      gmailQuery: "in:unread",
    }),
  );
  expect(err.code).toBe("NOT_GMAIL");
});
