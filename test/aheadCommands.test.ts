/**
 * The step's first command written behind the login (src/ahead.ts): counted on the wire, it
 * saves a flight; its answer is the one the step gets; a server that refuses it before the login
 * is answered gets it again; a refusal is the step's own; a failed login is told as ever.
 */
import { wireProxy } from "../scripts/wireProxy";
import { actionCommands, triggerCommands } from "./commandLog";
import type { Fields } from "./helpers";
import {
  failure,
  harness,
  legacyConnection,
  rfc822,
  seedMailbox,
  server,
  tlsConnection,
  withDirectMailbox,
} from "./helpers";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test16";

/** The client flights of one action's session (the TLS handshake's two included). */
async function flightsOf(key: string, params: Fields): Promise<{ flights: number; data: unknown }> {
  const proxy = await wireProxy({ host: server.host, port: server.tlsPort }, { delayMs: 2 });
  try {
    const connection = tlsConnection(USER, { port: String(proxy.port) });
    const result = (await harness.action(key, { connection, ...params })) as { data: unknown };
    await proxy.idle();
    const sessions = proxy.take();
    expect(sessions).toHaveLength(1);
    return { flights: sessions[0]?.clientFlights ?? -1, data: result.data };
  } finally {
    await proxy.close();
  }
}

describe("the first command travels with the login", () => {
  test("getStatus: TLS, LOGIN with STATUS, LOGOUT; the counts are the mailbox's", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Ahead", count: 3 });
    const { flights, data } = await flightsOf("getStatus", { mailbox: path });
    expect(flights).toBe(4);
    const status = data as Record<string, unknown>;
    expect([status.path, status.messages, status.unseen]).toEqual([path, 3, 3]);
    // HIGHESTMODSEQ is asked ahead although Dovecot announces CONDSTORE only after login
    expect(typeof status.highestModseq).toBe("string");
    expect(Number(status.highestModseq)).toBeGreaterThan(0);
  });

  test("getMessage: the EXAMINE goes with the login, the FETCH after it", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "AheadRead", count: 2 });
    const { flights, data } = await flightsOf("getMessage", {
      mailbox: path,
      uid: String(uids[1]),
    });
    expect(flights).toBe(5);
    expect((data as { uid: number; subject: string }).uid).toBe(uids[1]);
  });

  test("appendMessage: the STATUS goes with the login; the message is in the mailbox", async () => {
    const { path } = await seedMailbox(USER, { prefix: "AheadAppend", count: 0 });
    const { flights, data } = await flightsOf("appendMessage", {
      mailbox: path,
      message: rfc822({ subject: "sent ahead" }),
    });
    expect(flights).toBe(5);
    const uid = (data as { uid: number }).uid;
    const subjects = await withDirectMailbox(USER, path, { readOnly: true }, async (client) =>
      (await client.fetchAll("1:*", { envelope: true }, { uid: true })).map((row) => [
        row.uid,
        row.envelope?.subject,
      ]),
    );
    expect(subjects).toEqual([[uid, "sent ahead"]]);
  });

  test("changes of one UID: SELECT with the login, the change in one round trip after it", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "AheadChange", count: 3 });
    const destination = (await seedMailbox(USER, { prefix: "AheadTo", count: 0 })).path;
    const [first, second, third] = uids.map(String);
    const flagged = await flightsOf("addFlags", { mailbox: path, uids: first, flags: "\\Flagged" });
    const moved = await flightsOf("moveMessage", { mailbox: path, uids: second, destination });
    const deleted = await flightsOf("deleteMessage", {
      mailbox: path,
      uid: third,
      mode: "expunge",
    });
    expect([flagged.flights, moved.flights, deleted.flights]).toEqual([5, 5, 5]);
    const left = await withDirectMailbox(USER, path, { readOnly: true }, async (client) =>
      (await client.fetchAll("1:*", { flags: true }, { uid: true })).map((row) => [
        row.uid,
        [...(row.flags ?? [])].filter((flag) => flag !== "\\Recent"),
      ]),
    );
    expect(left).toEqual([[uids[0], ["\\Flagged"]]]);
  });

  test("an empty poll of one mailbox: TLS, LOGIN with STATUS and EXAMINE, LOGOUT", async () => {
    const { path } = await seedMailbox(USER, { prefix: "AheadPoll", count: 1 });
    const proxy = await wireProxy({ host: server.host, port: server.tlsPort }, { delayMs: 2 });
    try {
      const connection = tlsConnection(USER, { port: String(proxy.port) });
      const state: Record<string, unknown> = {};
      await triggerCommands("newEmails", { connection, mailbox: path }, state);
      await triggerCommands("newEmails", { connection, mailbox: path }, state);
      await proxy.idle();
      expect(proxy.take().map((session) => session.clientFlights)).toEqual([4, 4]);
    } finally {
      await proxy.close();
    }
  });
});

describe("a server that does not take commands before the login is answered", () => {
  /** Answers the first STATUS or EXAMINE with BAD, as such a server does (the client then sends it again). */
  const refuseFirst = (command: RegExp) => {
    let refused = 0;
    return {
      get refused() {
        return refused;
      },
      toClient: (line: string) => {
        const tagged = /^(\S+) OK /.exec(line);
        if (!tagged || refused > 0 || !command.test(line)) return line;
        refused += 1;
        return `${tagged[1]} BAD Not authenticated yet\r\n`;
      },
    };
  };

  test("the STATUS is sent again and its answer is the step's", async () => {
    const { path } = await seedMailbox(USER, { prefix: "AheadRefused", count: 2 });
    const rule = refuseFirst(/status/i);
    const proxy = await rewriteProxy({ host: server.host, port: server.legacyPort }, rule);
    try {
      const { result, log } = await actionCommands("getStatus", {
        connection: legacyConnection(USER, { port: String(proxy.port) }),
        mailbox: path,
      });
      expect(rule.refused).toBe(1);
      expect(log.commands).toEqual(["LOGIN", "STATUS", "STATUS", "LOGOUT"]);
      const data = (result as { data: Record<string, unknown> }).data;
      expect([data.path, data.messages]).toEqual([path, 2]);
    } finally {
      await proxy.close();
    }
  });

  test("the EXAMINE is sent again and the message is read", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "AheadRefusedOpen", count: 2 });
    const rule = refuseFirst(/examine/i);
    const proxy = await rewriteProxy({ host: server.host, port: server.legacyPort }, rule);
    try {
      const { result, log } = await actionCommands("getMessage", {
        connection: legacyConnection(USER, { port: String(proxy.port) }),
        mailbox: path,
        uid: String(uids[0]),
      });
      expect(rule.refused).toBe(1);
      expect(log.commands).toEqual(["LOGIN", "EXAMINE", "EXAMINE", "UID FETCH", "LOGOUT"]);
      expect((result as { data: { uid: number } }).data.uid).toBe(uids[0]);
    } finally {
      await proxy.close();
    }
  });
});

describe("what a command sent ahead cannot change", () => {
  test("a wrong password is told as ever, and the command behind it did nothing", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "AheadLogin", count: 1 });
    for (const key of ["getMessage", "addFlags"]) {
      const err = await failure(() =>
        harness.action(key, {
          connection: tlsConnection(USER, { password: "not-the-password" }),
          mailbox: path,
          uid: String(uids[0]),
          uids: String(uids[0]),
          flags: "\\Flagged",
        }),
      );
      expect([key, err.code]).toEqual([key, "AUTHENTICATION_FAILED"]);
    }
    const flags = await withDirectMailbox(USER, path, { readOnly: true }, async (client) => {
      const row = await client.fetchOne(String(uids[0]), { flags: true }, { uid: true });
      return [...(row ? (row.flags ?? []) : [])].filter((flag) => flag !== "\\Recent");
    });
    expect(flags).toEqual([]);
  });
});
