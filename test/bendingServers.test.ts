/**
 * Servers in use that bend the rules, reproduced by a rewriting proxy in front of the real
 * server: an APPEND whose flags and date are ignored, a STATUS reply with an unquoted mailbox
 * name that holds spaces. Effects are read back with a separate client.
 */
import { fixture } from "./fixtures/fixtures";
import type { Fields } from "./helpers";
import {
  harness,
  legacyConnection,
  rfc822,
  seedMailbox,
  server,
  uniqueName,
  withDirect,
  withDirectMailbox,
} from "./helpers";
import type { Rewrites } from "./rewriteProxy";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test34";

async function throughProxy<T>(
  rewrites: Rewrites,
  work: (connection: ReturnType<typeof legacyConnection>) => Promise<T>,
  port = server.legacyPort,
): Promise<T> {
  const proxy = await rewriteProxy({ host: server.host, port }, rewrites);
  try {
    return await work(legacyConnection(USER, { port: String(proxy.port) }));
  } finally {
    await proxy.close();
  }
}

async function run(action: string, params: Fields): Promise<Record<string, unknown>> {
  const { data } = (await harness.action(action, params)) as { data: Record<string, unknown> };
  return data;
}

/** flags (sorted, without \Recent) and internal date of one message, read by a separate client. */
async function storedMessage(mailbox: string, uid: number) {
  return withDirectMailbox(USER, mailbox, { readOnly: true }, async (client) => {
    const message = await client.fetchOne(
      String(uid),
      { uid: true, flags: true, internalDate: true },
      { uid: true },
    );
    if (!message) throw new Error(`UID ${uid} not found`);
    return {
      flags: [...(message.flags ?? [])].filter((flag) => flag !== "\\Recent").sort(),
      internalDate: new Date(message.internalDate ?? 0).toISOString(),
    };
  });
}

describe("a server that accepts APPEND but ignores its flags and date-time", () => {
  // APPEND mailbox (flags) "date-time" {n}: both optional arguments dropped on the way
  const ignoreArguments = (line: string) =>
    line.replace(/^(\S+ APPEND (?:"(?:[^"\\]|\\.)*"|\S+)) \([^)]*\)(?: "[^"]*")?/, "$1");

  test.each([
    ["with UIDPLUS", server.plainPort, true],
    ["without UIDPLUS", server.legacyPort, false],
  ])(
    "%s: the missing flags are stored afterwards and the date is reported as not applied",
    async (_name, port) => {
      const mailbox = uniqueName("append-ignored");
      await withDirect(USER, (client) => client.mailboxCreate(mailbox));
      const sent: string[] = [];
      const out = await throughProxy(
        {
          toServer: (line) => {
            const rewritten = ignoreArguments(line);
            if (/ APPEND /.test(line)) sent.push(rewritten.trimEnd());
            return rewritten;
          },
          // the proxy reads plain text: no COMPRESS
          toClient: (line) =>
            /CAPABILITY/.test(line) ? line.replace(/ COMPRESS=DEFLATE/g, "") : line,
        },
        (connection) =>
          run("appendMessage", {
            connection,
            mailbox,
            message: rfc822({
              subject: "Sent copy",
              messageId: `<${uniqueName("sent")}@example.com>`,
            }),
            flags: ["\\Seen", "\\Flagged"],
            internalDate: "2024-05-17T09:30:00Z",
          }),
        port,
      );
      // the proxy really dropped both arguments
      expect(sent).toEqual([expect.not.stringMatching(/\\Seen|2024/)]);
      const stored = await storedMessage(mailbox, Number(out.uid));
      expect(stored.flags).toEqual(["\\Flagged", "\\Seen"]);
      expect(stored.internalDate).not.toBe("2024-05-17T09:30:00.000Z");
      expect([[...(out.flags as string[])].sort(), out.internalDateApplied]).toEqual([
        ["\\Flagged", "\\Seen"],
        false,
      ]);
    },
  );
});

describe("a STATUS reply whose mailbox name holds spaces and is not quoted", () => {
  // * STATUS "Projekte Gr&APwA3w-e" (...) as such servers write it: * STATUS Projekte Gr&APwA3w-e (...)
  const unquoted = (line: string) =>
    line.replace(/^\* STATUS "((?:[^"\\]|\\.)*)" \(/, (_all, name: string) => `* STATUS ${name} (`);
  let mailbox: string;
  let counts: { messages: number; uidNext: number; uidValidity: string; unseen: number };

  beforeAll(async () => {
    mailbox = `Projekte Grüße ${uniqueName("status")}`;
    counts = await withDirect(USER, async (client) => {
      await client.mailboxCreate(mailbox);
      await client.append(mailbox, fixture("utf7.eml"), ["\\Seen"]);
      await client.append(mailbox, fixture("digest.eml"));
      await client.append(mailbox, fixture("empty-plain.eml"));
      const status = await client.status(mailbox, {
        messages: true,
        uidNext: true,
        uidValidity: true,
        unseen: true,
      });
      if (!status) throw new Error("no STATUS");
      return {
        messages: status.messages ?? -1,
        uidNext: status.uidNext ?? -1,
        uidValidity: String(status.uidValidity),
        unseen: status.unseen ?? -1,
      };
    });
  });

  test("getStatus reads the counts with EXAMINE instead, the same the server has", async () => {
    const seen: string[] = [];
    const data = await throughProxy(
      {
        toClient: (line) => {
          const rewritten = unquoted(line);
          if (rewritten.startsWith("* STATUS ")) seen.push(rewritten.trimEnd());
          return rewritten;
        },
      },
      (connection) => run("getStatus", { connection, mailbox }),
    );
    expect(seen).toEqual([expect.stringMatching(/^\* STATUS Projekte Gr&APwA3w-e status-/)]);
    expect(data).toEqual({
      path: mailbox,
      messages: 3,
      recent: expect.any(Number),
      uidNext: counts.uidNext,
      uidValidity: counts.uidValidity,
      unseen: 2,
    });
    expect([counts.messages, counts.unseen]).toEqual([3, 2]);
  });

  test("copyMessage into it (no UIDPLUS: found by Message-ID) reports the copies, no UIDVALIDITY change", async () => {
    const source = uniqueName("status-source");
    const uid = await withDirect(USER, async (client) => {
      await client.mailboxCreate(source);
      const appended = await client.append(source, rfc822({ subject: "to copy" }));
      return appended ? appended.uid : undefined;
    });
    const data = await throughProxy({ toClient: unquoted }, (connection) =>
      run("copyMessage", { connection, mailbox: source, uids: String(uid), destination: mailbox }),
    );
    const copies = await withDirectMailbox(USER, mailbox, { readOnly: true }, async (client) => {
      const found: number[] = [];
      for await (const message of client.fetch(`${counts.uidNext}:*`, { uid: true }, { uid: true }))
        found.push(message.uid);
      return found;
    });
    expect(copies).toEqual([counts.uidNext]);
    expect([data.uidValidity, data.uidMap]).toEqual([
      counts.uidValidity,
      [{ sourceUid: uid, destinationUid: counts.uidNext }],
    ]);
  });

  test("appendMessage into it returns the stored message's UID", async () => {
    const before = await withDirect(USER, async (client) => {
      const status = await client.status(mailbox, { uidNext: true });
      return status ? status.uidNext : undefined;
    });
    const data = await throughProxy({ toClient: unquoted }, (connection) =>
      run("appendMessage", {
        connection,
        mailbox,
        message: rfc822({ subject: "appended", messageId: `<${uniqueName("a")}@example.com>` }),
      }),
    );
    expect([data.uid, data.uidValidity]).toEqual([before, counts.uidValidity]);
  });
});

describe("mailbox attributes and flags in another letter case", () => {
  test("\\NoSelect keeps a mailbox out of the picklist; PERMANENTFLAGS in capitals still keep \\Seen", async () => {
    const hidden = uniqueName("noselect");
    const { path, uids } = await seedMailbox(USER, { count: 1 });
    await withDirect(USER, (client) => client.mailboxCreate(hidden));
    const rewrite = (line: string) =>
      line
        .replace(new RegExp(`^(\\* LIST \\()([^)]*\\) "[^"]*" "?${hidden})`), "$1\\NoSelect $2")
        .replace(
          /\[PERMANENTFLAGS \([^)]*\)\]/,
          "[PERMANENTFLAGS (\\ANSWERED \\FLAGGED \\DELETED \\SEEN \\DRAFT)]",
        );
    await throughProxy({ toClient: rewrite }, async (connection) => {
      const picklist = (await harness.dataSource("listMailboxes", { connection })) as {
        result: { key: string }[];
      };
      const keys = picklist.result.map((entry) => entry.key);
      expect([keys.includes(path), keys.includes(hidden)]).toEqual([true, false]);
      await run("addFlags", {
        connection,
        mailbox: path,
        uids: String(uids[0]),
        flags: ["\\Seen"],
      });
    });
    expect((await storedMessage(path, uids[0] ?? 0)).flags).toEqual(["\\Seen"]);
  });
});
