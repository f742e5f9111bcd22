/**
 * What a step's session sends: the command list of typical steps (a change that adds a round
 * trip fails here), and for each command a session leaves out, that what it was there for still
 * holds: a missing mailbox is still told by name, LOGINDISABLED still logs in, a personal
 * namespace `INBOX.`-style prefix still reaches the mailbox, a server that wants ID still gets it.
 * Servers we cannot run are the real Dovecot behind a rewriting proxy.
 */
import { actionCommands, triggerCommands } from "./commandLog";
import type { Fields } from "./helpers";
import {
  failure,
  legacyConnection,
  rfc822,
  seedMailbox,
  server,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
} from "./helpers";
import type { Rewrites } from "./rewriteProxy";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test16";

const missingMessage = (mailbox: string) =>
  `The mailbox "${mailbox}" does not exist. Check the path (the List Mailboxes action shows every path) or create it first.`;

/** Runs `work` through the rewriting proxy, to the legacy instance unless `port` says otherwise. */
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

/** Like `throughProxy`, to the main instance in cleartext: MOVE and UIDPLUS. */
function throughMain<T>(
  rewrites: Rewrites,
  work: (connection: ReturnType<typeof legacyConnection>) => Promise<T>,
): Promise<T> {
  return throughProxy(rewrites, work, server.plainPort);
}

/** Damages the first FETCH row for `uid`: `FLAGS (` becomes `FLAGS ((`, which no parser reads. */
function damageFlagsRow(uid: number): (line: string) => string {
  let done = false;
  return (line) => {
    if (done || !/^\* \d+ FETCH /.test(line) || !line.includes(`UID ${uid} `)) return line;
    done = true;
    return line.replace("FLAGS (", "FLAGS ((");
  };
}

/** Another client expunges `uid` from `mailbox`. */
async function expungeElsewhere(mailbox: string, uid: number): Promise<void> {
  await withDirectMailbox(USER, mailbox, { readOnly: false }, async (client) => {
    if (!(await client.messageDelete(String(uid), { uid: true })))
      throw new Error(`expunge of ${uid} failed`);
  });
}

async function flagsOf(mailbox: string): Promise<Record<number, string[]>> {
  return withDirectMailbox(USER, mailbox, { readOnly: true }, async (client) => {
    const out: Record<number, string[]> = {};
    if (client.mailbox && client.mailbox.exists === 0) return out;
    for (const row of await client.fetchAll("1:*", { uid: true, flags: true }, { uid: true }))
      out[row.uid] = [...(row.flags ?? [])].filter((flag) => flag !== "\\Recent").sort();
    return out;
  });
}

const notFound = (doing: string, mailbox: string, uid: number) =>
  `Could not ${doing}: the mailbox "${mailbox}" has no message with UID ${uid}, so nothing was changed. Check the UIDs: they come from Search / List Mailbox Messages or the trigger, and a message that was moved or deleted is gone for good.`;

async function mailboxPaths(): Promise<string[]> {
  return withDirect(USER, async (client) => (await client.list()).map((entry) => entry.path));
}

describe("the commands of a step's session", () => {
  test.each([
    ["main (TLS)", () => tlsConnection(USER)],
    ["legacy", () => legacyConnection(USER)],
  ])("on %s: login, the step's own commands, logout; nothing else", async (_name, connection) => {
    const { path, uids } = await seedMailbox(USER, { prefix: "Trips", count: 3 });
    const run = async (key: string, params: Fields) =>
      (await actionCommands(key, { connection: connection(), ...params })).log;
    expect(await run("getStatus", { mailbox: path })).toEqual({
      commands: ["LOGIN", "STATUS", "LOGOUT"],
      continuations: 0,
    });
    expect((await run("getMessage", { mailbox: path, uid: String(uids[0]) })).commands).toEqual([
      "LOGIN",
      "EXAMINE",
      "UID FETCH",
      "LOGOUT",
    ]);
    expect(
      (await run("downloadMessage", { mailbox: path, uid: String(uids[0]) })).commands,
    ).toEqual(["LOGIN", "EXAMINE", "UID FETCH", "LOGOUT"]);
    expect(
      (await run("addFlags", { mailbox: path, uids: String(uids[1]), flags: "\\Flagged" }))
        .commands,
    ).toEqual(["LOGIN", "SELECT", "UID STORE", "LOGOUT"]);
    const state: Record<string, unknown> = {};
    const poll = async () =>
      (await triggerCommands("newEmails", { connection: connection(), mailbox: path }, state)).log
        .commands;
    // a poll of one mailbox sends its EXAMINE behind the STATUS, for when mail has arrived
    expect(await poll()).toEqual(["LOGIN", "STATUS", "EXAMINE", "LOGOUT"]);
    expect(await poll()).toEqual(["LOGIN", "STATUS", "EXAMINE", "LOGOUT"]);
    // the effects are the same as ever: the flag is on the server
    const flags = await withDirectMailbox(USER, path, { readOnly: true }, async (client) => {
      const message = await client.fetchOne(String(uids[1]), { flags: true }, { uid: true });
      return [...(message ? (message.flags ?? []) : [])];
    });
    expect(flags).toContain("\\Flagged");
  });

  test.each([
    ["fewer than a batch: one UID FETCH lists and fetches them", {}, 1, 2],
    ["more than a batch: listed, then the batch fetched", { batchSize: "1" }, 2, 1],
    [
      "only unread with content: listed, then the unread fetched",
      { onlyUnread: "true", fetchContent: "true" },
      2,
      2,
    ],
  ])("a poll with new mail, %s", async (_name, params, fetches, taken) => {
    const { path } = await seedMailbox(USER, { prefix: "TripsPoll", count: 1 });
    const state: Record<string, unknown> = {};
    const poll = () =>
      triggerCommands(
        "newEmails",
        { connection: tlsConnection(USER), mailbox: path, ...params },
        state,
      );
    await poll();
    const added = await withDirect(USER, async (client) => {
      const out: number[] = [];
      for (const subject of ["one", "two"]) {
        const appended = await client.append(path, rfc822({ subject }));
        if (!appended || !appended.uid) throw new Error("append failed");
        out.push(appended.uid);
      }
      return out;
    });
    const { result, log } = await poll();
    expect(log.commands).toEqual([
      "LOGIN",
      "STATUS",
      "EXAMINE",
      ...Array(fetches).fill("UID FETCH"),
      "LOGOUT",
    ]);
    const delivered = (
      result as { payload: { body: { data: { messages: { uid: number }[] } } } }
    ).payload.body.data.messages.map((message) => message.uid);
    expect(delivered).toEqual(added.slice(0, taken));
  });

  test("a step on the main server deletes exactly one message: its FETCH, STORE and EXPUNGE go together", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDelete", count: 2 });
    const { log } = await actionCommands("deleteMessage", {
      connection: tlsConnection(USER),
      mailbox: path,
      uid: String(uids[0]),
      mode: "expunge",
    });
    expect(log.commands).toEqual([
      "LOGIN",
      "SELECT",
      "UID FETCH",
      "UID STORE",
      "UID EXPUNGE",
      "LOGOUT",
    ]);
    const left = await withDirectMailbox(USER, path, { readOnly: true }, (client) =>
      client.search({ all: true }, { uid: true }),
    );
    expect(left).toEqual([uids[1]]);
  });

  test("Check Connection still sets the session up in full: ID and the server's namespaces", async () => {
    const { log } = await actionCommands("checkConnection", { connection: tlsConnection(USER) });
    expect(log.commands.slice(0, 3)).toEqual(["ID", "AUTHENTICATE", "ID"]);
    expect(log.commands).toContain("NAMESPACE");
  });
});

describe("a missing mailbox, told without a LIST first", () => {
  test.each([
    ["main (TLS)", () => tlsConnection(USER)],
    ["legacy (no NONEXISTENT code)", () => legacyConnection(USER)],
  ])("on %s: opening, STATUS, APPEND and COPY name the mailbox", async (_name, connection) => {
    const missing = uniqueName("Missing");
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsSource", count: 1 });
    const cases: [string, Fields, string][] = [
      ["getMessage", { mailbox: missing, uid: "1" }, missing],
      ["getStatus", { mailbox: missing }, missing],
      ["appendMessage", { mailbox: missing, message: rfc822({ subject: "to nowhere" }) }, missing],
      ["copyMessage", { mailbox: path, uids: String(uids[0]), destination: missing }, missing],
    ];
    for (const [key, params, named] of cases) {
      const err = await failure(() => actionCommands(key, { connection: connection(), ...params }));
      expect({
        key,
        code: err.code,
        start: err.message.slice(0, missingMessage(named).length),
      }).toEqual({
        key,
        code: "MAILBOX_NOT_FOUND",
        start: missingMessage(named),
      });
    }
    // nothing was created on the way
    expect(await mailboxPaths()).not.toContain(missing);
  });

  test("APPEND answered NO [TRYCREATE] is the missing-mailbox error, and nothing is appended", async () => {
    const missing = uniqueName("TryCreate");
    // STATUS is let through to a mailbox that exists, so that APPEND itself meets the NO
    const err = await throughProxy(
      {
        toServer: (line) =>
          /^\S+ STATUS /.test(line)
            ? line.replace(`"${missing}"`, "INBOX").replace(` ${missing} `, " INBOX ")
            : line,
      },
      (connection) =>
        failure(() =>
          actionCommands("appendMessage", {
            connection,
            mailbox: missing,
            message: rfc822({ subject: "trycreate" }),
          }),
        ),
    );
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message.startsWith(missingMessage(missing))).toBe(true);
    expect(await mailboxPaths()).not.toContain(missing);
  });
});

describe("logging in", () => {
  test("a server announcing LOGINDISABLED is logged in with AUTHENTICATE PLAIN", async () => {
    const greeting = (line: string) =>
      line.startsWith("* OK [CAPABILITY ")
        ? line.replace("IMAP4rev1 ", "IMAP4rev1 LOGINDISABLED ")
        : line;
    const { result, log } = await throughProxy({ toClient: greeting }, (connection) =>
      actionCommands("getStatus", { connection, mailbox: "INBOX" }),
    );
    expect(log.commands).toEqual(["AUTHENTICATE", "STATUS", "LOGOUT"]);
    // the server announces SASL-IR: the credentials go on the command line, no "+" to wait for
    expect(log.continuations).toBe(0);
    expect((result as { data: { path: string } }).data.path).toBe("INBOX");
  });

  test('without SASL-IR, AUTHENTICATE PLAIN waits for the server\'s "+"', async () => {
    const greeting = (line: string) =>
      line.startsWith("* OK [CAPABILITY ")
        ? line.replace("IMAP4rev1 ", "IMAP4rev1 LOGINDISABLED ").replace(" SASL-IR", "")
        : line;
    const { result, log } = await throughProxy({ toClient: greeting }, (connection) =>
      actionCommands("getStatus", { connection, mailbox: "INBOX" }),
    );
    expect(log.commands).toEqual(["AUTHENTICATE", "STATUS", "LOGOUT"]);
    expect(log.continuations).toBe(1);
    expect((result as { data: { path: string } }).data.path).toBe("INBOX");
  });

  test("a wrong password sent with SASL-IR fails as in the two-step exchange, never shown", async () => {
    const refused = async (withIr: boolean) => {
      const greeting = (line: string) => {
        if (!line.startsWith("* OK [CAPABILITY ")) return line;
        const disabled = line.replace("IMAP4rev1 ", "IMAP4rev1 LOGINDISABLED ");
        return withIr ? disabled : disabled.replace(" SASL-IR", "");
      };
      const err = await throughProxy({ toClient: greeting }, (connection) =>
        failure(() =>
          actionCommands("getStatus", {
            connection: { ...connection, fields: { ...connection.fields, password: "wrong-Pa55" } },
            mailbox: "INBOX",
          }),
        ),
      );
      // the proxy's port differs between the two runs
      return { code: err.code, message: err.message.replace(/:\d+/g, ":PORT") };
    };
    const oneStep = await refused(true);
    expect(oneStep).toEqual(await refused(false));
    expect(oneStep.message).not.toContain("wrong-Pa55");
    expect(oneStep.message).not.toContain(
      Buffer.from("\u0000test16\u0000wrong-Pa55").toString("base64"),
    );
  });
});

describe("a server whose personal mailboxes live under a prefix", () => {
  test("NAMESPACE is asked only when a path is missing or a mailbox is created, and the prefix is used", async () => {
    const prefix = uniqueName("Personal");
    const child = uniqueName("Child");
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(`${prefix}/${child}`);
    });
    const namespace = (line: string) =>
      line.startsWith("* NAMESPACE ") ? `* NAMESPACE (("${prefix}/" "/")) NIL NIL\r\n` : line;
    await throughProxy({ toClient: namespace }, async (connection) => {
      const status = await actionCommands("getStatus", { connection, mailbox: child });
      expect((status.result as { data: { path: string } }).data.path).toBe(`${prefix}/${child}`);
      // the refused STATUS is checked by imapflow's own LIST before NAMESPACE is asked
      expect(status.log.commands).toEqual([
        "LOGIN",
        "STATUS",
        "LIST",
        "NAMESPACE",
        "STATUS",
        "LOGOUT",
      ]);
      const opened = await actionCommands("searchMailbox", { connection, mailbox: child });
      expect(opened.log.commands.slice(0, 5)).toEqual([
        "LOGIN",
        "EXAMINE",
        "LIST",
        "NAMESPACE",
        "EXAMINE",
      ]);
      const fresh = uniqueName("Fresh");
      const created = await actionCommands("createMailbox", { connection, path: fresh });
      expect(created.log.commands.slice(0, 2)).toEqual(["LOGIN", "NAMESPACE"]);
      expect(await mailboxPaths()).toContain(`${prefix}/${fresh}`);
      // a path that is missing under the prefix too is the same error as ever, naming the path given
      const missing = uniqueName("Nowhere");
      const err = await failure(() =>
        actionCommands("getStatus", { connection, mailbox: missing }),
      );
      expect(err.message.startsWith(missingMessage(missing))).toBe(true);
    });
  });
});

describe("a server that wants ID", () => {
  test("one that refuses to open a mailbox before ID gets ID, and the mailbox opens", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsId", count: 1 });
    let identified = false;
    let refusedTag: string | undefined;
    let refusals = 0;
    const { result, log } = await throughProxy(
      {
        toServer: (line) => {
          if (/^\S+ ID /.test(line)) identified = true;
          const opening = /^(\S+) (?:SELECT|EXAMINE) /.exec(line);
          if (opening && !identified) refusedTag = opening[1];
          return line;
        },
        // the mailbox's own answer turned into the refusal such servers send
        toClient: (line) => {
          if (refusedTag === undefined || !line.startsWith(`${refusedTag} OK`)) return line;
          refusedTag = undefined;
          refusals += 1;
          return `${line.split(" ")[0]} NO SELECT Unsafe Login. Please contact the administrator\r\n`;
        },
      },
      (connection) =>
        actionCommands("getMessage", { connection, mailbox: path, uid: String(uids[0]) }),
    );
    expect(refusals).toBe(1);
    expect(log.commands).toEqual([
      "LOGIN",
      "EXAMINE",
      "LIST",
      "ID",
      "EXAMINE",
      "UID FETCH",
      "LOGOUT",
    ]);
    expect((result as { data: { uid: number } }).data.uid).toBe(uids[0]);
  });

  test("a server known to require it (Coremail) gets ID right after login, once", async () => {
    const greeting = (line: string) =>
      line.startsWith("* OK [CAPABILITY ")
        ? line.replace("Dovecot (Debian) ready.", "Coremail System IMap Server Ready")
        : line;
    const { log } = await throughProxy({ toClient: greeting }, (connection) =>
      actionCommands("getStatus", { connection, mailbox: "INBOX" }),
    );
    expect(log.commands).toEqual(["LOGIN", "ID", "STATUS", "LOGOUT"]);
  });
});

describe("a flag change of one UID, told by the STORE's own answer", () => {
  const flagged = { flags: ["\\Flagged"] };

  test.each([
    ["main (TLS)", () => tlsConnection(USER)],
    ["legacy", () => legacyConnection(USER)],
  ])(
    "on %s: flags already as asked (no row from the server) are read back",
    async (_name, connection) => {
      const { path, uids } = await seedMailbox(USER, {
        prefix: "TripsSame",
        count: 2,
        flags: () => ["\\Flagged"],
      });
      const { result, log } = await actionCommands("addFlags", {
        connection: connection(),
        mailbox: path,
        uids: String(uids[0]),
        ...flagged,
      });
      expect(log.commands).toEqual(["LOGIN", "SELECT", "UID STORE", "UID FETCH", "LOGOUT"]);
      expect((result as { data: unknown }).data).toEqual({
        mailbox: path,
        messages: [{ uid: uids[0], flags: ["\\Flagged"] }],
      });
    },
  );

  test.each([
    ["main (TLS)", () => tlsConnection(USER)],
    ["legacy", () => legacyConnection(USER)],
  ])(
    "on %s: a UID that names no message is the same error as ever, and nothing changes",
    async (_name, connection) => {
      const { path, uids } = await seedMailbox(USER, { prefix: "TripsNone", count: 2 });
      const missing = uids[1] + 5;
      for (const key of ["addFlags", "removeFlags", "setFlags"]) {
        const err = await failure(() =>
          actionCommands(key, {
            connection: connection(),
            mailbox: path,
            uids: String(missing),
            ...flagged,
          }),
        );
        const doing =
          { addFlags: "add flags", removeFlags: "remove flags", setFlags: "set flags" }[key] ?? "";
        expect([key, err.code, err.uid, err.message]).toEqual([
          key,
          "MESSAGE_NOT_FOUND",
          String(missing),
          notFound(doing, path, missing),
        ]);
      }
      expect(await flagsOf(path)).toEqual({ [uids[0]]: [], [uids[1]]: [] });
    },
  );

  test("a message another client expunged just before the STORE is the missing-UID error", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsGone", count: 2 });
    const err = await throughMain(
      {
        toServer: async (line) => {
          if (/^\S+ UID STORE /.test(line)) await expungeElsewhere(path, uids[0]);
          return line;
        },
      },
      (connection) =>
        failure(() =>
          actionCommands("addFlags", {
            connection,
            mailbox: path,
            uids: String(uids[0]),
            ...flagged,
          }),
        ),
    );
    expect([err.code, err.message]).toEqual([
      "MESSAGE_NOT_FOUND",
      notFound("add flags", path, uids[0]),
    ]);
    expect(await flagsOf(path)).toEqual({ [uids[1]]: [] });
  });

  test("a damaged row in the STORE's answer is read back, never taken for a missing message", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDamaged", count: 2 });
    const { result, log } = await throughMain({ toClient: damageFlagsRow(uids[0]) }, (connection) =>
      actionCommands("addFlags", { connection, mailbox: path, uids: String(uids[0]), ...flagged }),
    );
    expect(log.commands).toEqual(["LOGIN", "SELECT", "UID STORE", "UID FETCH", "LOGOUT"]);
    expect((result as { data: unknown }).data).toEqual({
      mailbox: path,
      messages: [{ uid: uids[0], flags: ["\\Flagged"] }],
    });
  });

  test("a row damaged in the STORE's answer and in the reading back is RESPONSE_DAMAGED; the change was made", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDamagedTwice", count: 2 });
    const first = damageFlagsRow(uids[0]);
    const second = damageFlagsRow(uids[0]);
    let sent = "";
    const err = await throughMain(
      {
        toServer: (line) => {
          sent = line;
          return line;
        },
        toClient: (line) => (/^\S+ UID FETCH /.test(sent) ? second(line) : first(line)),
      },
      (connection) =>
        failure(() =>
          actionCommands("addFlags", {
            connection,
            mailbox: path,
            uids: String(uids[0]),
            ...flagged,
          }),
        ),
    );
    expect([err.code, err.mailbox, err.uid]).toEqual(["RESPONSE_DAMAGED", path, uids[0]]);
    expect(err.message).toMatch(
      new RegExp(
        `^The server's answer to the reading back of the flags in mailbox "${path}" lacked UID ${uids[0]} or sent it incomplete, although the message still exists .*The change \\(add flags\\) was made on the server; only reading the flags back failed, so running the step again is safe\\.`,
      ),
    );
    expect(await flagsOf(path)).toEqual({ [uids[0]]: ["\\Flagged"], [uids[1]]: [] });
  });

  test("a set of several UIDs is still read first: one missing UID changes none", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsSeveral", count: 2 });
    const { log } = await actionCommands("addFlags", {
      connection: tlsConnection(USER),
      mailbox: path,
      uids: `${uids[0]},${uids[1]}`,
      ...flagged,
    });
    expect(log.commands).toEqual([
      "LOGIN",
      "SELECT",
      "UID FETCH",
      "UID STORE",
      "UID FETCH",
      "LOGOUT",
    ]);
  });
});

/** Damages the row of `uid` in the first answer to a UID FETCH of its UID alone. */
function damageUidRow(uid: number): (line: string) => string {
  let done = false;
  return (line) => {
    if (done || !new RegExp(`^\\* \\d+ FETCH \\(UID ${uid}\\)`).test(line)) return line;
    done = true;
    return line.replace(`(UID ${uid})`, `(UID ${uid} ((`);
  };
}

/** Answers NO, instead of its own completion, the first command the client sends that matches `command`. */
function refuseAnswerTo(command: RegExp): Rewrites {
  let tag: string | undefined;
  return {
    toServer: (line) => {
      if (tag === undefined && command.test(line)) tag = line.split(" ")[0];
      return line;
    },
    toClient: (line) =>
      tag !== undefined && line.startsWith(`${tag} OK `)
        ? `${tag} NO Refused for the test\r\n`
        : line,
  };
}

describe("deleting one message with UIDPLUS: FETCH, STORE and EXPUNGE of its UID in one round trip", () => {
  const remove = (connection: ReturnType<typeof tlsConnection>, path: string, uid: number) =>
    actionCommands("deleteMessage", {
      connection,
      mailbox: path,
      uid: String(uid),
      mode: "expunge",
    });
  const left = (path: string) =>
    withDirectMailbox(USER, path, { readOnly: true }, (client) =>
      client.search({ all: true }, { uid: true }),
    );

  test("a UID that names no message is the same error as ever; a message another client flagged \\Deleted stays", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDelNone", count: 2 });
    await withDirectMailbox(USER, path, { readOnly: false }, (client) =>
      client.messageFlagsAdd(String(uids[1]), ["\\Deleted"], { uid: true }),
    );
    const err = await failure(() => remove(tlsConnection(USER), path, uids[1] + 3));
    expect([err.code, err.message]).toEqual([
      "MESSAGE_NOT_FOUND",
      notFound("delete the message", path, uids[1] + 3),
    ]);
    expect(await left(path)).toEqual(uids);
  });

  test("a message that already carries \\Deleted is found by the FETCH, and expunged alone", async () => {
    const { path, uids } = await seedMailbox(USER, {
      prefix: "TripsDelFlagged",
      count: 3,
      flags: () => ["\\Deleted"],
    });
    const { result, log } = await remove(tlsConnection(USER), path, uids[1]);
    expect((result as { data: unknown }).data).toBe(true);
    expect(log.commands).toEqual([
      "LOGIN",
      "SELECT",
      "UID FETCH",
      "UID STORE",
      "UID EXPUNGE",
      "LOGOUT",
    ]);
    expect(await left(path)).toEqual([uids[0], uids[2]]);
  });

  test("a damaged row in the FETCH's answer is checked afterwards, never taken for a missing message", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDelDamaged", count: 2 });
    const { result, log } = await throughMain({ toClient: damageUidRow(uids[0]) }, (connection) =>
      remove(connection, path, uids[0]),
    );
    expect((result as { data: unknown }).data).toBe(true);
    expect(log.commands).toEqual([
      "LOGIN",
      "SELECT",
      "UID FETCH",
      "UID STORE",
      "UID EXPUNGE",
      "NOOP",
      "UID SEARCH",
      "LOGOUT",
    ]);
    expect(await left(path)).toEqual([uids[1]]);
  });

  test("a damaged row and a message still there afterwards is RESPONSE_DAMAGED, naming the UID", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDelKept", count: 2 });
    // the STORE is turned into one that does not flag \Deleted, so the EXPUNGE removes nothing
    const keep = (line: string) =>
      line.replace("+FLAGS.SILENT (\\Deleted)", "+FLAGS.SILENT ($Kept)");
    const err = await throughMain(
      { toClient: damageUidRow(uids[0]), toServer: keep },
      (connection) => failure(() => remove(connection, path, uids[0])),
    );
    expect(err.code).toBe("RESPONSE_DAMAGED");
    expect(err.message).toContain(
      `The server's answer to the listing of the message to delete in mailbox "${path}" lacked UID ${uids[0]} or sent it incomplete, although the message still exists`,
    );
    expect(err.message).toContain("It was not expunged");
    expect(await left(path)).toEqual(uids);
  });

  test("a message another client expunged as the step looks is gone: the step says deleted, nothing else goes", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDelGone", count: 2 });
    // Dovecot still lists it in this session's view (a row without data) until the session syncs
    const { result } = await throughMain(
      {
        toServer: async (line) => {
          if (/^\S+ UID FETCH /.test(line)) await expungeElsewhere(path, uids[0]);
          return line;
        },
      },
      (connection) => remove(connection, path, uids[0]),
    );
    expect((result as { data: unknown }).data).toBe(true);
    expect(await left(path)).toEqual([uids[1]]);
  });

  test("a mailbox that cannot keep \\Deleted is refused before anything is sent, as imapflow refuses it", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDelNoFlag", count: 1 });
    const noDeleted = (line: string) =>
      line.startsWith("* OK [PERMANENTFLAGS ")
        ? line.replace("\\Deleted ", "").replace(" \\*", "")
        : line;
    const err = await throughMain({ toClient: noDeleted }, (connection) =>
      failure(() => remove(connection, path, uids[0])),
    );
    expect(err.code).toBe("SERVER_REFUSED");
    expect(err.message).toBe(
      `The server refused to delete the message (UID ${uids[0]} in mailbox "${path}") and gave no reason. Check that the account may do this on that mailbox.`,
    );
    expect(await left(path)).toEqual(uids);
  });

  test("a FETCH that fails tells nothing: a UID that named no message is still the missing-UID error", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDelFetchNo", count: 2 });
    const refuseFetch = refuseAnswerTo(/^\S+ UID FETCH /);
    const err = await throughMain(refuseFetch, (connection) =>
      failure(() => remove(connection, path, uids[1] + 2)),
    );
    expect([err.code, err.message]).toEqual([
      "MESSAGE_NOT_FOUND",
      notFound("delete the message", path, uids[1] + 2),
    ]);
    expect(await left(path)).toEqual(uids);
    // and one that exists is deleted: the server reported its removal
    const { result } = await throughMain(refuseAnswerTo(/^\S+ UID FETCH /), (connection) =>
      remove(connection, path, uids[0]),
    );
    expect((result as { data: unknown }).data).toBe(true);
    expect(await left(path)).toEqual([uids[1]]);
  });

  test("without UIDPLUS the message is still resolved first", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsDelLegacy", count: 2 });
    const { log } = await remove(legacyConnection(USER), path, uids[0]);
    expect(log.commands).toEqual([
      "LOGIN",
      "SELECT",
      "UID FETCH",
      "NOOP",
      "UID SEARCH",
      "UID STORE",
      "NOOP",
      "UID SEARCH",
      "UID STORE",
      "EXPUNGE",
      "LOGOUT",
    ]);
    expect(await left(path)).toEqual([uids[1]]);
  });
});

describe("moving or copying one message with MOVE and UIDPLUS, told by COPYUID", () => {
  const destinationOf = async (prefix: string) => {
    const destination = uniqueName(prefix);
    await withDirect(USER, (client) => client.mailboxCreate(destination));
    return destination;
  };
  const uidsIn = async (path: string): Promise<number[]> =>
    (await withDirectMailbox(USER, path, { readOnly: true }, (client) =>
      client.search({ all: true }, { uid: true }),
    )) || [];
  type Moved = { data: { uidMap: { sourceUid: number; destinationUid: number | null }[] } };

  test.each([
    ["moveMessage", "UID MOVE", "SELECT"],
    ["copyMessage", "UID COPY", "EXAMINE"],
  ])("%s sends no UID FETCH; the new UID is COPYUID's", async (key, command, opening) => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsMove", count: 2 });
    const destination = await destinationOf("TripsMoveTo");
    const { result, log } = await actionCommands(key, {
      connection: tlsConnection(USER),
      mailbox: path,
      uids: String(uids[0]),
      destination,
    });
    expect(log.commands).toEqual(["LOGIN", "STATUS", opening, command, "LOGOUT"]);
    const arrived = await uidsIn(destination);
    expect(arrived.length).toBe(1);
    expect((result as Moved).data.uidMap).toEqual([
      { sourceUid: uids[0], destinationUid: arrived[0] },
    ]);
    expect(await uidsIn(path)).toEqual(key === "moveMessage" ? [uids[1]] : uids);
  });

  test.each(["moveMessage", "copyMessage"])(
    "%s of a UID that names no message, or one expunged just before, is the same error as ever",
    async (key) => {
      const { path, uids } = await seedMailbox(USER, { prefix: "TripsMoveNone", count: 3 });
      const destination = await destinationOf("TripsMoveNoneTo");
      const doing = `${key === "moveMessage" ? "move" : "copy"} messages to "${destination}"`;
      const err = await failure(() =>
        actionCommands(key, {
          connection: tlsConnection(USER),
          mailbox: path,
          uids: String(uids[2] + 4),
          destination,
        }),
      );
      expect([err.code, err.message]).toEqual([
        "MESSAGE_NOT_FOUND",
        notFound(doing, path, uids[2] + 4),
      ]);
      // Dovecot answers a MOVE or COPY of a message expunged meanwhile NO [EXPUNGEISSUED]
      const gone = await throughMain(
        {
          toServer: async (line) => {
            if (/^\S+ UID (MOVE|COPY) /.test(line)) await expungeElsewhere(path, uids[0]);
            return line;
          },
        },
        (connection) =>
          failure(() =>
            actionCommands(key, { connection, mailbox: path, uids: String(uids[0]), destination }),
          ),
      );
      expect([gone.code, gone.message]).toEqual([
        "MESSAGE_NOT_FOUND",
        notFound(doing, path, uids[0]),
      ]);
      expect(await uidsIn(destination)).toEqual([]);
      expect(await uidsIn(path)).toEqual([uids[1], uids[2]]);
    },
  );

  test("a copy of a UID that names no message is the missing-UID error, whatever arrives in the destination meanwhile", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsCopyNone", count: 1 });
    const destination = await destinationOf("TripsCopyNoneTo");
    const err = await throughMain(
      {
        toServer: async (line) => {
          if (/^\S+ UID COPY /.test(line))
            await withDirect(USER, (client) =>
              client.append(destination, rfc822({ subject: "meanwhile" })),
            );
          return line;
        },
      },
      (connection) =>
        failure(() =>
          actionCommands("copyMessage", {
            connection,
            mailbox: path,
            uids: String(uids[0] + 5),
            destination,
          }),
        ),
    );
    expect([err.code, err.message]).toEqual([
      "MESSAGE_NOT_FOUND",
      notFound(`copy messages to "${destination}"`, path, uids[0] + 5),
    ]);
    expect((await uidsIn(destination)).length).toBe(1);
  });

  test("a move answered without COPYUID is reported without the new UID, not as a missing message", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsMoveNoCopyUid", count: 2 });
    const destination = await destinationOf("TripsMoveNoCopyUidTo");
    const { result } = await throughMain(
      {
        toClient: (line) =>
          line.includes("[COPYUID ") ? line.replace(/\[COPYUID [^\]]*\] ?/, "") : line,
      },
      (connection) =>
        actionCommands("moveMessage", {
          connection,
          mailbox: path,
          uids: String(uids[0]),
          destination,
        }),
    );
    expect((result as Moved).data.uidMap).toEqual([{ sourceUid: uids[0], destinationUid: null }]);
    expect((await uidsIn(destination)).length).toBe(1);
    expect(await uidsIn(path)).toEqual([uids[1]]);
  });
});

describe("a move whose COPYUID could not be parsed", () => {
  test("is reported without the new UID (the destination's UIDNEXT moved), never as a missing message", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "TripsMoveDamaged", count: 2 });
    const destination = uniqueName("TripsMoveDamagedTo");
    await withDirect(USER, (client) => client.mailboxCreate(destination));
    const { result, log } = await throughMain(
      {
        toClient: (line) =>
          line.startsWith("* OK [COPYUID ") ? line.replace("[COPYUID ", "[COPYUID ((") : line,
      },
      (connection) =>
        actionCommands("moveMessage", {
          connection,
          mailbox: path,
          uids: String(uids[0]),
          destination,
        }),
    );
    expect(log.commands).toEqual([
      "LOGIN",
      "STATUS",
      "SELECT",
      "UID MOVE",
      "NOOP",
      "UID SEARCH",
      "STATUS",
      "LOGOUT",
    ]);
    expect((result as { data: { uidMap: unknown } }).data.uidMap).toEqual([
      { sourceUid: uids[0], destinationUid: null },
    ]);
    const arrived = await withDirectMailbox(USER, destination, { readOnly: true }, (client) =>
      client.search({ all: true }, { uid: true }),
    );
    expect(arrived).toEqual([1]);
  });
});
