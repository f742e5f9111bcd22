/**
 * Answers other servers give and Dovecot does not, made on purpose by a rewriting proxy in front of
 * the legacy instance: flags in another letter case, NIL for a message's content, a search answer
 * that cannot be read. And a UID set "*" that must stay a UID on the wire.
 */
import type { ActionLogger } from "@prismatic-io/spectral";
import { ImapError } from "../src/errors";
import { appendAll, bytes, mimeMessage } from "./fixtures/fixtures";
import {
  failure,
  flagsByUid,
  harness,
  legacyConnection,
  seedMailbox,
  server,
  withDirect,
} from "./helpers";
import type { Rewrites } from "./rewriteProxy";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test28";
const quiet = () => undefined;

/** Runs `work` with a cleartext connection through a proxy applying `rewrites` (to the legacy instance unless told). */
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

/** Every FETCH answer carries \recent, in lower case, as some servers write it. */
const lowerCaseRecent = (line: string) =>
  /^\* \d+ FETCH /.test(line)
    ? line.replace("FLAGS (", "FLAGS (\\recent ").replace("\\recent )", "\\recent)")
    : line;

describe("\\Recent in any letter case is left out of every output", () => {
  test("searchMailbox, getMessage, addFlags", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 1, flags: () => ["\\Seen"] });
    await throughProxy({ toClient: lowerCaseRecent }, async (connection) => {
      const search = (await harness.action("searchMailbox", { connection, mailbox: path })) as {
        data: { messages: { flags: string[] }[] };
      };
      expect(search.data.messages.map((message) => message.flags)).toEqual([["\\Seen"]]);
      const message = (await harness.action("getMessage", {
        connection,
        mailbox: path,
        uid: String(uids[0]),
      })) as { data: { flags: string[] } };
      expect(message.data.flags).toEqual(["\\Seen"]);
      const added = (await harness.action("addFlags", {
        connection,
        mailbox: path,
        uids: String(uids[0]),
        flags: ["\\Flagged"],
      })) as {
        data: { messages: { flags: string[] }[] };
      };
      expect(added.data.messages.map((entry) => entry.flags.sort())).toEqual([
        ["\\Flagged", "\\Seen"],
      ]);
    });
    // the flag reached the server; nothing else changed
    const stored = await flagsByUid(USER, path);
    expect(stored[uids[0]]).toEqual(["\\Flagged", "\\Seen"]);
  });

  test("the newEmails trigger", async () => {
    const { path } = await seedMailbox(USER, { count: 0 });
    const instanceState: Record<string, unknown> = {};
    const logger: ActionLogger = {
      metric: quiet,
      trace: quiet,
      debug: quiet,
      info: quiet,
      log: quiet,
      warn: quiet,
      error: quiet,
    };
    await throughProxy({ toClient: lowerCaseRecent }, async (connection) => {
      await harness.trigger(
        "newEmails",
        {},
        { connection, mailbox: path },
        { instanceState, logger },
      );
      await withDirect(USER, async (client) => {
        await client.append(path, mimeMessage("new", []), ["\\Flagged"]);
      });
      const polled = (await harness.trigger(
        "newEmails",
        {},
        { connection, mailbox: path },
        { instanceState, logger },
      )) as unknown as {
        payload: { body: { data: { messages: { flags: string[] }[] } } };
      };
      expect(polled.payload.body.data.messages.map((message) => message.flags)).toEqual([
        ["\\Flagged"],
      ]);
    });
  });
});

/**
 * Answers the literal of a message or body part (BODY[], BODY[2], BINARY[2]) with NIL, as some
 * servers do for a message they cannot read, and drops the literal's bytes.
 */
function nilContent(): (line: string) => string {
  let skip = 0;
  return (line) => {
    if (skip > 0) {
      // latin1: one character per byte, so lengths are byte counts
      if (line.length <= skip) {
        skip -= line.length;
        return "";
      }
      const rest = line.slice(skip);
      skip = 0;
      return rest;
    }
    const literal = /^(\* \d+ FETCH .*(?:BODY|BINARY)\[[\d.]*\]) ~?\{(\d+)\}\r\n$/.exec(line);
    if (!literal) return line;
    skip = Number(literal[2]);
    return `${literal[1]} NIL`;
  };
}

describe("a server that sends NIL instead of the content is a clear error, never an empty result", () => {
  let box: { mailbox: string; uids: { report: number } };

  beforeAll(async () => {
    box = await appendAll(USER, {
      report: mimeMessage("Report", [
        { type: "application/pdf", filename: "report.pdf", data: bytes.pdf },
      ]),
    });
  });

  const expectNil = (err: Error & Record<string, unknown>, what: string) => {
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox, err.uid]).toEqual([
      "CONTENT_MISSING",
      box.mailbox,
      box.uids.report,
    ]);
    expect(err.message).toBe(
      `The server sent no content for ${what} (UID ${box.uids.report} in mailbox "${box.mailbox}"): it answered NIL, so nothing was returned. The message may be damaged on the server: retry later, or ask the server's administrator to check it.`,
    );
  };

  test("downloadMessage of the whole message and of a part", async () => {
    const uid = String(box.uids.report);
    await throughProxy({ toClient: nilContent() }, async (connection) => {
      expectNil(
        await failure(() =>
          harness.action("downloadMessage", { connection, mailbox: box.mailbox, uid }),
        ),
        "the message",
      );
    });
    await throughProxy({ toClient: nilContent() }, async (connection) => {
      expectNil(
        await failure(() =>
          harness.action("downloadMessage", { connection, mailbox: box.mailbox, uid, part: "2" }),
        ),
        "body part 2 of the message",
      );
    });
  });

  test("getMessage", async () => {
    await throughProxy({ toClient: nilContent() }, async (connection) => {
      expectNil(
        await failure(() =>
          harness.action("getMessage", {
            connection,
            mailbox: box.mailbox,
            uid: String(box.uids.report),
          }),
        ),
        "the message",
      );
    });
  });

  test("downloadAttachment", async () => {
    await throughProxy({ toClient: nilContent() }, async (connection) => {
      const err = await failure(() =>
        harness.action("downloadAttachment", {
          connection,
          mailbox: box.mailbox,
          uid: String(box.uids.report),
          filename: "report.pdf",
        }),
      );
      expectNil(err, "body part 2 of the message");
    });
  });

  test("without the proxy the same message downloads (the rewrite is what fails)", async () => {
    const result = (await harness.action("downloadAttachment", {
      connection: legacyConnection(USER),
      mailbox: box.mailbox,
      uid: String(box.uids.report),
      partId: "2",
    })) as {
      data: Buffer;
    };
    expect(result.data.equals(bytes.pdf)).toBe(true);
  });
});

test("a search answer that cannot be read fails the search instead of matching nothing", async () => {
  const { path } = await seedMailbox(USER, { count: 3 });
  // A server-sent UID set cannot contain "*" (RFC 9051 4.1.1). The main instance offers ESEARCH;
  // COMPRESS is dropped so that the proxy sees plain text.
  const badSet = (line: string) =>
    /^\* ESEARCH /.test(line)
      ? line.replace(/ ALL (\S+)\r\n$/, " ALL $1,*\r\n")
      : /CAPABILITY/.test(line)
        ? line.replace(/ COMPRESS=DEFLATE/g, "")
        : line;
  await throughProxy(
    { toClient: badSet },
    async (connection) => {
      const err = await failure(() =>
        harness.action("searchMailbox", { connection, mailbox: path }),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect([err.code, err.mailbox]).toEqual(["RESPONSE_DAMAGED", path]);
      expect(err.message).toMatch(
        new RegExp(
          `^Could not search the mailbox "${path}": the server sent an unreadable UID set: \\d+:\\d+,\\*\\. Nothing was fetched; retry, and report it to the server's administrator if it persists\\.$`,
        ),
      );
    },
    server.plainPort,
  );
});

test('the UID set "*" is sent as a UID set, never as a sequence number', async () => {
  const { path, uids } = await seedMailbox(USER, { count: 3 });
  const sent: string[] = [];
  const record = (line: string) => {
    sent.push(line.replace(/^\S+ /, "").trimEnd());
    return line;
  };
  await throughProxy({ toServer: record }, async (connection) => {
    const result = (await harness.action("addFlags", {
      connection,
      mailbox: path,
      uids: "*",
      flags: ["\\Flagged"],
    })) as { data: unknown };
    expect(result.data).toEqual({
      mailbox: path,
      messages: [{ uid: uids[2], flags: ["\\Flagged"] }],
    });
  });
  expect(sent.filter((line) => /^(UID )?(FETCH|STORE)/.test(line))).toEqual([
    "UID FETCH *:* (UID FLAGS)",
    `UID STORE ${uids[2]} +FLAGS (\\Flagged)`,
    `UID FETCH ${uids[2]} (UID FLAGS)`,
  ]);
  expect(await flagsByUid(USER, path)).toEqual({
    [uids[0]]: [],
    [uids[1]]: [],
    [uids[2]]: ["\\Flagged"],
  });
});
