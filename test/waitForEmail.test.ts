import { ImapError, InputError } from "../src/errors";
import { sessionLimits } from "../src/session";
import { waitLimits } from "../src/wait";
import { fixture } from "./fixtures/fixtures";
import {
  failure,
  harness,
  legacyConnection,
  openResources,
  resourcesAfter,
  rfc822,
  server,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
  withoutRecent,
} from "./helpers";
import { cutAfterProxy, faultyProxy } from "./proxy";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test37";
const LEGACY_USER = "test38";
const NOWHERE = tlsConnection(USER, { port: "1" });
const savedWait = { ...waitLimits };
const savedSession = { ...sessionLimits };
const crashes: unknown[] = [];
const onCrash = (err: unknown) => crashes.push(err);

beforeAll(() => {
  process.on("uncaughtException", onCrash);
});
afterAll(() => {
  process.off("uncaughtException", onCrash);
  Object.assign(waitLimits, savedWait);
  Object.assign(sessionLimits, savedSession);
});
afterEach(() => {
  Object.assign(waitLimits, savedWait);
  Object.assign(sessionLimits, savedSession);
  expect(crashes).toEqual([]);
});

type Outcome = { branch: string; data: Record<string, unknown> & { uid?: number } };

function wait(connection: unknown, params: Record<string, unknown>): Promise<Outcome> {
  return harness.action("waitForEmail", { connection, ...params }) as Promise<Outcome>;
}

async function newMailbox(user: string): Promise<string> {
  const path = uniqueName("wait");
  await withDirect(user, (client) => client.mailboxCreate(path));
  return path;
}

/** Appends `subjects` from a separate client `afterMs` into the wait; resolves to their UIDs. */
function appendLater(user: string, mailbox: string, subjects: string[], afterMs: number) {
  return new Promise<{ uids: number[]; at: number }>((resolve, reject) => {
    setTimeout(() => {
      withDirect(user, async (client) => {
        const uids: number[] = [];
        let at = 0;
        for (const subject of subjects) {
          const result = await client.append(mailbox, rfc822({ subject, body: `${subject} body` }));
          at = Date.now();
          if (!result) throw new Error("append failed");
          uids.push(result.uid ?? 0);
        }
        return { uids, at };
      }).then(resolve, reject);
    }, afterMs);
  });
}

async function seen(user: string, mailbox: string): Promise<string[][]> {
  return withDirectMailbox(user, mailbox, { readOnly: true }, async (client) => {
    const out: string[][] = [];
    for await (const msg of client.fetch("1:*", { uid: true, flags: true }, { uid: true }))
      out.push(withoutRecent(msg.flags));
    return out;
  });
}

describe("waitForEmail", () => {
  test.each([
    ["with IDLE", USER, tlsConnection],
    ["without IDLE (NOOP polling)", LEGACY_USER, legacyConnection],
  ])(
    "%s: a matching message appended 2 s into the wait is Received; a non-matching one is passed over",
    async (_name, user, connect) => {
      const mailbox = await newMailbox(user);
      await withDirect(user, (client) =>
        client.append(mailbox, rfc822({ subject: "Your code 000000 (old)" })),
      );
      const before = openResources();
      const started = Date.now();
      const appended = appendLater(user, mailbox, ["Newsletter", "Your code 481516"], 2000);
      const outcome = await wait(connect(user), {
        mailbox,
        subject: "Your code",
        timeoutSeconds: "30",
        fetchContent: "true",
      });
      const returned = Date.now();
      const { uids, at } = await appended;
      expect(outcome.branch).toBe("Received");
      expect(outcome.data.uid).toBe(uids[1]);
      expect((outcome.data.envelope as { subject: string }).subject).toBe("Your code 481516");
      expect(outcome.data.text).toBe("Your code 481516 body\n");
      // Found within one poll of its arrival, never before it arrived.
      expect(returned - started).toBeGreaterThanOrEqual(2000);
      expect(returned - at).toBeLessThan(waitLimits.pollMs + 1500);
      // Read-only: nothing became \Seen.
      expect(await seen(user, mailbox)).toEqual([[], [], []]);
      expect(await resourcesAfter(before)).toEqual(before);
    },
  );

  test("with Fetch Content, the attachments are getMessage's, numbered as the server numbers them", async () => {
    const mailbox = await newMailbox(USER);
    const appended = new Promise<number>((resolve, reject) => {
      setTimeout(() => {
        withDirect(USER, async (client) => {
          const result = await client.append(mailbox, fixture("base64-footer.eml"));
          if (!result || !result.uid) throw new Error("append failed");
          return result.uid;
        }).then(resolve, reject);
      }, 500);
    });
    const outcome = await wait(tlsConnection(USER), {
      mailbox,
      subject: "footer appended",
      timeoutSeconds: "30",
      fetchContent: "true",
    });
    const uid = await appended;
    expect([outcome.branch, outcome.data.uid]).toEqual(["Received", uid]);
    const { data } = (await harness.action("getMessage", {
      connection: tlsConnection(USER),
      mailbox,
      uid: String(uid),
    })) as { data: { attachments: Record<string, unknown>[] } };
    // "Hello, world!": the scanner's footer after the base64 padding is not data (RFC 2045 6.8)
    const expected = [
      {
        partId: "2",
        filename: "hello.txt",
        contentType: "text/plain",
        size: 13,
        contentId: null,
        inline: false,
      },
    ];
    expect(outcome.data.attachments).toEqual(expected);
    expect(data.attachments.map(({ checksum, content, tooLarge, ...rest }) => rest)).toEqual(
      expected,
    );
  });

  test("the timeout branch: nothing matching arrives; the wait ends on time and leaves nothing open", async () => {
    const mailbox = await newMailbox(USER);
    const before = openResources();
    const appended = appendLater(USER, mailbox, ["Not the one"], 500);
    const started = Date.now();
    const outcome = await wait(tlsConnection(USER), {
      mailbox,
      from: "nobody@example.org",
      timeoutSeconds: "3",
    });
    const took = Date.now() - started;
    await appended;
    expect(outcome.branch).toBe("Timed Out");
    expect(outcome.data.mailbox).toBe(mailbox);
    expect(outcome.data.waitedSeconds).toBeGreaterThanOrEqual(3);
    expect(outcome.data.waitedSeconds).toBeLessThan(4);
    expect(took).toBeLessThan(4500);
    expect(await resourcesAfter(before)).toEqual(before);
  });

  test("after a UID: a matching message already above it is Received at once; one at or below it is not", async () => {
    const mailbox = await newMailbox(LEGACY_USER);
    const uids = await withDirect(LEGACY_USER, async (client) => {
      const out: number[] = [];
      for (const subject of ["Approval 1", "Approval 2", "Other"]) {
        const result = await client.append(mailbox, rfc822({ subject }));
        if (!result) throw new Error("append failed");
        out.push(result.uid ?? 0);
      }
      return out;
    });
    const received = await wait(legacyConnection(LEGACY_USER), {
      mailbox,
      subject: "Approval",
      after: String(uids[0]),
    });
    expect([received.branch, received.data.uid]).toEqual(["Received", uids[1]]);
    const none = await wait(legacyConnection(LEGACY_USER), {
      mailbox,
      subject: "Approval",
      after: String(uids[1]),
      timeoutSeconds: "1",
    });
    expect(none.branch).toBe("Timed Out");
  });

  test.each([
    ["during IDLE", server.tlsPort, USER, tlsConnection],
    ["during the NOOP polling", server.legacyPort, LEGACY_USER, legacyConnection],
  ])(
    "a connection cut %s is a clear error, with nothing left open",
    async (_name, port, user, connect) => {
      const mailbox = await newMailbox(user);
      // Cut 1.5 s in: logged in and waiting by then.
      const proxy = await cutAfterProxy({ host: server.host, port }, 1500);
      const before = openResources();
      try {
        const started = Date.now();
        const err = await failure(() =>
          wait(connect(user, { port: String(proxy.port), host: "127.0.0.1" }), {
            mailbox,
            timeoutSeconds: "60",
          }),
        );
        expect(Date.now() - started).toBeLessThan(5000);
        expect(err).toBeInstanceOf(ImapError);
        expect(err.code).toBe("CONNECTION_LOST");
        expect(err.message).toMatch(
          new RegExp(
            `^The connection to 127\\.0\\.0\\.1:${proxy.port} was closed unexpectedly while trying to (wait for new mail|check that the server still answers|ask the server for new mail) \\(mailbox "${mailbox}"\\)\\. Check the server's availability; the step can be retried if the operation is safe to retry\\.$`,
          ),
        );
      } finally {
        await proxy.close();
      }
      expect(await resourcesAfter(before)).toEqual(before);
    },
  );

  test("a server that stops answering during the wait fails within the answer bound, not at the timeout", async () => {
    Object.assign(waitLimits, { pollMs: 300, answerMs: 1000 });
    Object.assign(sessionLimits, { logoutMs: 300 });
    const mailbox = await newMailbox(LEGACY_USER);
    const proxy = await faultyProxy(
      { host: server.host, port: server.legacyPort },
      /NOOP/,
      "stall",
    );
    const before = openResources();
    try {
      const started = Date.now();
      const err = await failure(() =>
        wait(legacyConnection(LEGACY_USER, { port: String(proxy.port) }), {
          mailbox,
          timeoutSeconds: "60",
        }),
      );
      expect(Date.now() - started).toBeLessThan(4000);
      expect([err.code, err.message]).toEqual([
        "SOCKET_TIMEOUT",
        `The server at 127.0.0.1:${proxy.port} did not answer within 1 s while trying to ask the server for new mail (mailbox "${mailbox}"), so the connection was closed. The connection may have been dropped by a firewall or the server; retry the step.`,
      ]);
    } finally {
      await proxy.close();
    }
    expect(await resourcesAfter(before)).toEqual(before);
  });

  test("a server gone silent during IDLE: the slice's NOOP finds it within the answer bound", async () => {
    Object.assign(waitLimits, { idleSliceMs: 500, answerMs: 1000 });
    Object.assign(sessionLimits, { logoutMs: 300 });
    const mailbox = await newMailbox(USER);
    const proxy = await cutAfterProxy({ host: server.host, port: server.tlsPort }, 1200, "stall");
    const before = openResources();
    try {
      const started = Date.now();
      const err = await failure(() =>
        wait(tlsConnection(USER, { port: String(proxy.port) }), { mailbox, timeoutSeconds: "60" }),
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect([err.code, err.message]).toEqual([
        "SOCKET_TIMEOUT",
        `The server at 127.0.0.1:${proxy.port} did not answer within 1 s while trying to check that the server still answers (mailbox "${mailbox}"), so the connection was closed. The connection may have been dropped by a firewall or the server; retry the step.`,
      ]);
    } finally {
      await proxy.close();
    }
    expect(await resourcesAfter(before)).toEqual(before);
  });

  test("a server gone silent during IDLE at the deadline: Timed Out on time, no command delays it", async () => {
    Object.assign(sessionLimits, { logoutMs: 300 });
    const mailbox = await newMailbox(USER);
    const proxy = await cutAfterProxy({ host: server.host, port: server.tlsPort }, 1000, "stall");
    const before = openResources();
    try {
      const started = Date.now();
      const outcome = await wait(tlsConnection(USER, { port: String(proxy.port) }), {
        mailbox,
        timeoutSeconds: "2",
      });
      expect(outcome.branch).toBe("Timed Out");
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await proxy.close();
    }
    expect(await resourcesAfter(before)).toEqual(before);
  });

  test("IDLE is broken and re-issued each slice, with a NOOP proving the server still answers", async () => {
    Object.assign(waitLimits, { idleSliceMs: 400 });
    const mailbox = await newMailbox(USER);
    const commands: string[] = [];
    const capture = (line: unknown) => {
      const text = String(line);
      const json = text.slice(text.indexOf("{"));
      try {
        const entry = JSON.parse(json) as { src?: string; msg?: string };
        if (entry.src === "c" && entry.msg) commands.push(entry.msg.split(" ")[1] ?? entry.msg);
      } catch {
        // not an imapflow entry
      }
    };
    const quiet = () => undefined;
    // globalDebug turns the session's debug log on (spectral's wrapper reads it).
    const context = {
      globalDebug: true,
      logger: {
        metric: quiet,
        trace: quiet,
        debug: capture,
        info: quiet,
        log: quiet,
        warn: quiet,
        error: quiet,
      },
    };
    const outcome = (await harness.action(
      "waitForEmail",
      { connection: tlsConnection(USER), mailbox, timeoutSeconds: "2" },
      context,
    )) as Outcome;
    expect(outcome.branch).toBe("Timed Out");
    const idles = commands.filter((command) => command === "IDLE").length;
    const noops = commands.filter((command) => command === "NOOP").length;
    expect(idles).toBeGreaterThanOrEqual(4);
    expect(idles).toBeLessThanOrEqual(6);
    expect(noops).toBeGreaterThanOrEqual(idles - 1);
  });

  test("a server that leaves UIDNEXT out of SELECT: the starting point comes from STATUS", async () => {
    const mailbox = await newMailbox(LEGACY_USER);
    await withDirect(LEGACY_USER, (client) =>
      client.append(mailbox, rfc822({ subject: "Old match" })),
    );
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      { toClient: (line) => (/^\* OK \[UIDNEXT \d+\]/.test(line) ? "" : line) },
    );
    try {
      const appended = appendLater(LEGACY_USER, mailbox, ["New match"], 1000);
      const outcome = await wait(legacyConnection(LEGACY_USER, { port: String(proxy.port) }), {
        mailbox,
        subject: "match",
        timeoutSeconds: "20",
      });
      const { uids } = await appended;
      expect([outcome.branch, outcome.data.uid]).toEqual(["Received", uids[0]]);
    } finally {
      await proxy.close();
    }
  });

  test.each([
    [{ timeoutSeconds: "0" }, "Timeout Seconds must be a whole number from 1 to 840"],
    [{ timeoutSeconds: "841" }, "Timeout Seconds must be a whole number from 1 to 840"],
    [{ timeoutSeconds: "five" }, "Timeout Seconds must be a whole number from 1 to 840"],
    [{ after: "yesterday" }, 'After must be "now"'],
    [{ since: "tomorrow" }, "Since"],
    [{ criteria: '{"bogus": 1}' }, "bogus"],
  ])("bad input %j is refused before connecting", async (params, message) => {
    const err = await failure(() => wait(NOWHERE, params));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(message);
  });
});
