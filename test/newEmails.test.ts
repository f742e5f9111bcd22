import net from "node:net";
import type { ActionLogger } from "@prismatic-io/spectral";
import type { ImapFlow } from "imapflow";
import { ImapConnectionError, ImapError, InputError } from "../src/errors";
import type { Fields } from "./helpers";
import {
  failure,
  flagsByUid,
  harness,
  legacyConnection,
  rfc822,
  seedMailbox,
  server,
  tlsConnection,
  uniqueName,
  withDirect,
  withDirectMailbox,
} from "./helpers";
import { faultyProxy } from "./proxy";

type Connection = ReturnType<typeof tlsConnection>;

interface Delivered {
  mailbox: string;
  uidValidity: string;
  messages: Record<string, unknown>[];
}

interface Poll {
  data: Delivered;
  noChanges: boolean;
  /** Names of the IMAP commands the session sent, e.g. ["ID", "LOGIN", "STATUS", "LOGOUT"]. */
  commands: string[];
  warnings: string[];
  infos: string[];
}

/** A logger that records what the trigger writes; imapflow's entries arrive as "imap debug: {json}". */
function recorder() {
  const debug: string[] = [];
  const warnings: string[] = [];
  const infos: string[] = [];
  const text = (args: unknown[]) => args.map(String).join(" ");
  const logger: ActionLogger = {
    metric: () => undefined,
    trace: () => undefined,
    debug: (...args) => debug.push(text(args)),
    info: (...args) => infos.push(text(args)),
    log: () => undefined,
    warn: (...args) => warnings.push(text(args)),
    error: () => undefined,
  };
  const commands = () =>
    debug
      .filter((line) => line.startsWith("imap debug: "))
      .map(
        (line) => JSON.parse(line.slice("imap debug: ".length)) as { src?: string; msg?: string },
      )
      .filter(
        (entry) => entry.src === "c" && typeof entry.msg === "string" && !entry.msg.startsWith("("),
      )
      .map((entry) => {
        const [, name, next] = (entry.msg ?? "").split(" ");
        return name === "UID" ? `UID ${next}` : name;
      });
  return { logger, commands, warnings, infos };
}

/** One poll through spectral's real polling wrapper, keeping the cursor in `instanceState`. */
async function poll(
  connection: Connection,
  mailbox: string,
  instanceState: Record<string, unknown>,
  params: Fields = {},
): Promise<Poll> {
  const { logger, commands, warnings, infos } = recorder();
  const context = { instanceState, logger, globalDebug: true };
  const result = (await harness.trigger(
    "newEmails",
    {},
    { connection, mailbox, ...params },
    context,
  )) as unknown as {
    payload: { body: { data: Delivered } };
    resultType: string;
  };
  return {
    data: result.payload.body.data,
    noChanges: result.resultType === "polled_no_changes",
    commands: commands(),
    warnings,
    infos,
  };
}

/** The cursor part of the saved state (the time of the poll and the delivered Message-IDs left out). */
function cursor(instanceState: Record<string, unknown>): unknown {
  const saved = (
    instanceState.__prismaticInternal as { polling?: Record<string, unknown> } | undefined
  )?.polling;
  if (!saved) return saved;
  const { lastPollAt: _time, deliveredIds: _ids, ...rest } = saved;
  return rest;
}

const uids = (result: Poll) => result.data.messages.map((message) => message.uid);
const subjects = (result: Poll) =>
  result.data.messages.map((message) => (message.envelope as { subject: string }).subject);
const MAILBOX_COMMANDS = new Set([
  "STATUS",
  "SELECT",
  "EXAMINE",
  "FETCH",
  "UID FETCH",
  "UID SEARCH",
  "SEARCH",
  "UID STORE",
  "STORE",
]);
/** An empty poll of one mailbox read-only: its STATUS, and the EXAMINE sent behind it in the same round trip. */
const EMPTY_POLL = ["STATUS", "EXAMINE"];
const mailboxCommands = (result: Poll) =>
  result.commands.filter((name) => MAILBOX_COMMANDS.has(name));

async function append(
  user: string,
  mailbox: string,
  subjects: string[],
  flags: string[][] = [],
): Promise<number[]> {
  return appendRaw(
    user,
    mailbox,
    subjects.map((subject) => rfc822({ subject })),
    flags,
  );
}

async function appendRaw(
  user: string,
  mailbox: string,
  raws: string[],
  flags: string[][] = [],
): Promise<number[]> {
  return withDirect(user, async (client) => {
    const out: number[] = [];
    for (const [i, raw] of raws.entries()) {
      const result = await client.append(mailbox, raw, flags[i] ?? []);
      if (!result || !result.uid) throw new Error(`append to ${mailbox} failed`);
      out.push(result.uid);
    }
    return out;
  });
}

async function uidValidityOf(client: ImapFlow, mailbox: string): Promise<string> {
  const status = await client.status(mailbox, { uidValidity: true });
  if (!status || status.uidValidity === undefined) throw new Error(`status of ${mailbox} failed`);
  return status.uidValidity.toString();
}

/**
 * A cleartext proxy to the legacy instance (no COMPRESS, so commands are readable) that holds the
 * first client command matching `pattern` until `meanwhile` has run: "while the poll runs" made
 * deterministic.
 */
function holdingProxy(
  pattern: RegExp,
  meanwhile: () => Promise<void>,
): Promise<{ port: number; held: () => boolean; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let held = false;
  const proxy = net.createServer((client) => {
    const upstream = net.connect(server.legacyPort, server.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    upstream.on("data", (chunk) => client.write(chunk));
    let queue: Buffer[] | undefined;
    client.on("data", (chunk: Buffer) => {
      if (queue) {
        queue.push(chunk);
        return;
      }
      if (held || !pattern.test(chunk.toString("latin1"))) {
        upstream.write(chunk);
        return;
      }
      held = true;
      queue = [chunk];
      // a failure of `meanwhile` shows in the test's own assertions on what it did
      void meanwhile()
        .catch(() => undefined)
        .finally(() => {
          for (const part of queue ?? []) upstream.write(part);
          queue = undefined;
        });
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  return new Promise((resolve) => {
    proxy.listen(0, "127.0.0.1", () => {
      resolve({
        port: (proxy.address() as net.AddressInfo).port,
        held: () => held,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            proxy.close(() => done());
          }),
      });
    });
  });
}

describe("newEmails: the cursor", () => {
  const USER = "test15";

  test("first poll delivers nothing; then exactly the new messages in UID order; an empty poll costs one round trip", async () => {
    const { path, uids: old } = await seedMailbox(USER, { prefix: "NewMail", count: 2 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);

    const first = await poll(connection, path, state);
    expect(first.noChanges).toBe(true);
    const uidValidity = await withDirect(USER, (client) => uidValidityOf(client, path));
    expect(first.data).toEqual({ mailbox: path, uidValidity, messages: [], expungedMeanwhile: 0 });
    expect(cursor(state)).toEqual({ mailbox: path, uidValidity, lastUid: old[1] });
    expect(first.infos).toEqual([
      expect.stringContaining(`first poll of mailbox "${path}": starting after UID ${old[1]}`),
    ]);
    expect(mailboxCommands(first)).toEqual(EMPTY_POLL);

    const messageIds = ["one", "two", "three"].map(
      (subject) => `<${subject}-${uniqueName("m")}@example.com>`,
    );
    const raws = ["one", "two", "three"].map((subject, i) =>
      rfc822({ subject, messageId: messageIds[i] }),
    );
    const added = await appendRaw(USER, path, raws);
    const internalDate = await withDirectMailbox(USER, path, { readOnly: true }, async (client) => {
      const message = await client.fetchOne(
        String(added[0]),
        { internalDate: true },
        { uid: true },
      );
      return message ? new Date(message.internalDate ?? 0).toISOString() : "not found";
    });
    const second = await poll(connection, path, state);
    expect(second.noChanges).toBe(false);
    expect(uids(second)).toEqual(added);
    expect(subjects(second)).toEqual(["one", "two", "three"]);
    expect(second.data.mailbox).toBe(path);
    expect(second.data.uidValidity).toBe(uidValidity);
    expect(second.data.messages[0]).toEqual({
      uid: added[0],
      flags: [],
      size: Buffer.byteLength(raws[0]),
      internalDate,
      envelope: {
        date: "2026-11-24T10:00:00.000Z",
        subject: "one",
        messageId: messageIds[0],
        inReplyTo: "",
        from: [{ name: "Alice Example", address: "alice@example.com" }],
        to: [{ name: "Bob Example", address: "bob@example.com" }],
        cc: [],
        bcc: [],
        replyTo: [{ name: "Alice Example", address: "alice@example.com" }],
        sender: [{ name: "Alice Example", address: "alice@example.com" }],
      },
    });
    expect(JSON.parse(JSON.stringify(second.data))).toEqual(second.data);
    expect(cursor(state)).toEqual({ mailbox: path, uidValidity, lastUid: added[2] });
    // read-only: EXAMINE, never SELECT; the new messages, fewer than a batch, in one FETCH
    expect(mailboxCommands(second)).toEqual(["STATUS", "EXAMINE", "UID FETCH"]);

    const third = await poll(connection, path, state);
    expect(third.noChanges).toBe(true);
    expect(third.data.messages).toEqual([]);
    expect(mailboxCommands(third)).toEqual(EMPTY_POLL);
    expect(cursor(state)).toEqual({ mailbox: path, uidValidity, lastUid: added[2] });
    // polling never set \Seen
    expect(await flagsByUid(USER, path)).toEqual(
      Object.fromEntries([...old, ...added].map((uid) => [uid, []])),
    );
  });

  test("120 new messages with batchSize 50 arrive as 50, 50 and 20, oldest first, no gaps, no repeats", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Batch", count: 1 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, path, state, { batchSize: "50" });
    const added = await append(
      USER,
      path,
      Array.from({ length: 120 }, (_, i) => `batch ${i + 1}`),
    );

    const batches: number[][] = [];
    for (let i = 0; i < 4; i += 1)
      batches.push(uids(await poll(connection, path, state, { batchSize: "50" })) as number[]);
    expect(batches.map((batch) => batch.length)).toEqual([50, 50, 20, 0]);
    expect(batches.flat()).toEqual(added);
    expect(new Set(batches.flat()).size).toBe(120);
    expect((cursor(state) as { lastUid: number }).lastUid).toBe(added[119]);
  });

  test("a message that arrives while a poll runs is delivered by the next poll", async () => {
    const USER_LEGACY = "test16";
    const { path } = await seedMailbox(USER_LEGACY, { prefix: "Arriving", count: 1 });
    const state: Record<string, unknown> = {};
    await poll(legacyConnection(USER_LEGACY), path, state);
    const before = await append(USER_LEGACY, path, ["before 1", "before 2"]);

    let during: number[] = [];
    // Held: the second UID FETCH, which fetches the messages the poll chose after listing them.
    const proxy = await holdingProxy(/UID FETCH [\d:,]+ \([^)]*ENVELOPE/, async () => {
      during = await append(USER_LEGACY, path, ["during"]);
    });
    try {
      const through = legacyConnection(USER_LEGACY, { port: String(proxy.port) });
      const running = await poll(through, path, state);
      expect(proxy.held()).toBe(true);
      expect(uids(running)).toEqual(before);
      expect(during).toHaveLength(1);
      expect((cursor(state) as { lastUid: number }).lastUid).toBe(before[1]);
    } finally {
      await proxy.close();
    }
    const next = await poll(legacyConnection(USER_LEGACY), path, state);
    expect(uids(next)).toEqual(during);
    expect(subjects(next)).toEqual(["during"]);
    expect((await poll(legacyConnection(USER_LEGACY), path, state)).data.messages).toEqual([]);
  });

  test("a message appended and expunged between two polls delivers nothing, not the newest old message", async () => {
    const { path, uids: old } = await seedMailbox(USER, { prefix: "Expunged", count: 2 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, path, state);
    const [gone] = await append(USER, path, ["gone again"]);
    await withDirectMailbox(USER, path, { readOnly: false }, async (client) => {
      expect(await client.messageDelete(String(gone), { uid: true })).toBe(true);
    });

    const after = await poll(connection, path, state);
    expect(after.noChanges).toBe(true);
    expect(after.data.messages).toEqual([]);
    // UID FETCH gone:* answered with the newest old message; it was filtered out
    expect(mailboxCommands(after)).toEqual(["STATUS", "EXAMINE", "UID FETCH"]);
    // the cursor passed the expunged UID, so the next empty poll is one STATUS again
    expect((cursor(state) as { lastUid: number }).lastUid).toBe(gone);
    const next = await poll(connection, path, state);
    expect(next.data.messages).toEqual([]);
    expect(mailboxCommands(next)).toEqual(EMPTY_POLL);
    expect(Object.keys(await flagsByUid(USER, path)).map(Number)).toEqual(old);
  });

  test("in an emptied mailbox, new UIDs that are gone already cost one round trip", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Emptied", count: 0 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, path, state);
    const [gone] = await append(USER, path, ["gone"]);
    await withDirectMailbox(USER, path, { readOnly: false }, async (client) => {
      await client.messageDelete(String(gone), { uid: true });
    });
    const after = await poll(connection, path, state);
    expect(after.data.messages).toEqual([]);
    expect(mailboxCommands(after)).toEqual(EMPTY_POLL);
    expect((cursor(state) as { lastUid: number }).lastUid).toBe(gone);
  });
});

describe("newEmails: options", () => {
  const USER = "test17";

  test("markAsRead adds \\Seen to the delivered messages only, by UID", async () => {
    const { path, uids: old } = await seedMailbox(USER, { prefix: "MarkRead", count: 1 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, path, state, { markAsRead: true });
    const added = await append(USER, path, ["a", "b", "c"], [[], ["\\Flagged"], []]);

    const first = await poll(connection, path, state, { markAsRead: true, batchSize: "2" });
    expect(uids(first)).toEqual(added.slice(0, 2));
    // the flags as they were when fetched, before \Seen was added
    expect(first.data.messages.map((message) => message.flags)).toEqual([[], ["\\Flagged"]]);
    expect(mailboxCommands(first)).toEqual([
      "STATUS",
      "SELECT",
      "UID FETCH",
      "UID FETCH",
      "UID STORE",
    ]);
    expect(await flagsByUid(USER, path)).toEqual({
      [old[0]]: [],
      [added[0]]: ["\\Seen"],
      [added[1]]: ["\\Flagged", "\\Seen"],
      [added[2]]: [],
    });

    const second = await poll(connection, path, state, { markAsRead: true, batchSize: "2" });
    expect(uids(second)).toEqual([added[2]]);
    expect((await flagsByUid(USER, path))[added[2]]).toEqual(["\\Seen"]);
    expect((await flagsByUid(USER, path))[old[0]]).toEqual([]);
  });

  test("onlyUnread delivers the unread new messages and moves the cursor past the read ones", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Unread", count: 1 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, path, state, { onlyUnread: true });
    const added = await append(
      USER,
      path,
      ["unread A", "read B", "unread C", "read D"],
      [[], ["\\Seen"], [], ["\\Seen"]],
    );

    const first = await poll(connection, path, state, { onlyUnread: true, batchSize: "1" });
    expect(subjects(first)).toEqual(["unread A"]);
    expect((cursor(state) as { lastUid: number }).lastUid).toBe(added[0]);
    const second = await poll(connection, path, state, { onlyUnread: true, batchSize: "1" });
    expect(subjects(second)).toEqual(["unread C"]);
    // nothing unread is left above C: the cursor moves past the read D
    expect((cursor(state) as { lastUid: number }).lastUid).toBe(added[3]);
    const third = await poll(connection, path, state, { onlyUnread: true, batchSize: "1" });
    expect(third.noChanges).toBe(true);
    expect(mailboxCommands(third)).toEqual(EMPTY_POLL);
    // without markAsRead nothing was flagged
    const flags = await flagsByUid(USER, path);
    expect(added.map((uid) => flags[uid])).toEqual([[], ["\\Seen"], [], ["\\Seen"]]);
  });

  test("a poll in which every new message is read delivers nothing and still moves on", async () => {
    const { path } = await seedMailbox(USER, { prefix: "AllRead", count: 0 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, path, state, { onlyUnread: true });
    const added = await append(USER, path, ["read 1", "read 2"], [["\\Seen"], ["\\Seen"]]);
    const result = await poll(connection, path, state, { onlyUnread: true });
    expect(result.noChanges).toBe(true);
    expect(result.data.messages).toEqual([]);
    expect((cursor(state) as { lastUid: number }).lastUid).toBe(added[1]);
  });

  test("bad inputs are refused before connecting, and the cursor stays", async () => {
    const state: Record<string, unknown> = {};
    const refused = tlsConnection("test17", { port: "1" });
    for (const [params, message] of [
      [{ batchSize: "0" }, "Batch Size must be from 1 to 500, not 0."],
      [{ batchSize: "501" }, "Batch Size must be from 1 to 500, not 501."],
      [{ batchSize: "ten" }, 'Batch Size "ten" is not a whole number.'],
      [{ markAsRead: "yes" }, 'Mark As Read must be true or false, not "yes".'],
      [{ mailbox: "" }, "Mailbox is empty: give a mailbox path such as INBOX."],
    ] as const) {
      const err = await failure(() => poll(refused, "INBOX", state, params));
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toBe(message);
    }
    expect(cursor(state)).toBeUndefined();
  });
});

describe("newEmails: UIDVALIDITY and failures", () => {
  const USER = "test18";

  test("a deleted mailbox is an error that leaves the cursor; recreated (new UIDVALIDITY) the mail that arrived meanwhile is delivered once, with a warning", async () => {
    const { path, uids: old } = await seedMailbox(USER, { prefix: "Recreated", count: 1 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, path, state);
    const saved = structuredClone(cursor(state));
    const oldValidity = (saved as { uidValidity: string }).uidValidity;

    await withDirect(USER, (client) => client.mailboxDelete(path));
    const err = await failure(() => poll(connection, path, state));
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toContain(`The mailbox "${path}" does not exist.`);
    expect(cursor(state)).toEqual(saved);

    const newValidity = await withDirect(USER, async (client) => {
      await client.mailboxCreate(path);
      return uidValidityOf(client, path);
    });
    expect(newValidity).not.toBe(oldValidity);
    const arrivedMeanwhile = await append(USER, path, ["x1", "x2"]);
    // the new mailbox starts its UIDs at 1 again: a stale cursor would skip or repeat them
    expect(arrivedMeanwhile[0]).toBeLessThanOrEqual(old[0]);

    const after = await poll(connection, path, state);
    expect(after.noChanges).toBe(false);
    expect(uids(after)).toEqual(arrivedMeanwhile);
    expect(subjects(after)).toEqual(["x1", "x2"]);
    expect(after.data.messages.map((message) => message.recovered)).toEqual([true, true]);
    expect(after.data.uidValidity).toBe(newValidity);
    expect(after.warnings).toEqual([
      expect.stringContaining(
        `the UIDVALIDITY of mailbox "${path}" changed from ${oldValidity} to ${newValidity}`,
      ),
    ]);
    expect(after.warnings[0]).toContain("the messages that arrived since");
    expect(cursor(state)).toEqual({
      mailbox: path,
      uidValidity: newValidity,
      lastUid: arrivedMeanwhile[1],
    });

    const fresh = await append(USER, path, ["after the recovery"]);
    const next = await poll(connection, path, state);
    expect(uids(next)).toEqual(fresh);
    expect(next.data.messages[0]?.recovered).toBeUndefined();
    expect(next.warnings).toEqual([]);
  });

  test("a wrong password is an error and the cursor does not move; the messages come with the next good poll", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Password", count: 1 });
    const state: Record<string, unknown> = {};
    await poll(tlsConnection(USER), path, state);
    const added = await append(USER, path, ["waiting 1", "waiting 2"]);
    const saved = structuredClone(cursor(state));

    const err = await failure(() =>
      poll(tlsConnection(USER, { password: "wrong-password" }), path, state),
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("AUTHENTICATION_FAILED");
    expect(err.message).toContain(`as "${USER}" failed: check the username and password.`);
    expect(cursor(state)).toEqual(saved);

    const next = await poll(tlsConnection(USER), path, state);
    expect(uids(next)).toEqual(added);
  });

  test("a failure while marking as read delivers nothing and leaves the cursor", async () => {
    const { path } = await seedMailbox(USER, { prefix: "StoreCut", count: 0 });
    const state: Record<string, unknown> = {};
    await poll(legacyConnection(USER), path, state, { markAsRead: true });
    const added = await append(USER, path, ["m1", "m2"]);
    const saved = structuredClone(cursor(state));

    // The connection dies when the poll sends its STORE: after the messages were fetched.
    const proxy = await faultyProxy(
      { host: server.host, port: server.legacyPort },
      /UID STORE/,
      "cut",
    );
    try {
      const err = await failure(() =>
        poll(legacyConnection(USER, { port: String(proxy.port) }), path, state, {
          markAsRead: true,
        }),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect(err.code).toBe("CONNECTION_LOST");
      expect(err.message).toContain(`mark the delivered messages as read (mailbox "${path}")`);
    } finally {
      await proxy.close();
    }
    expect(cursor(state)).toEqual(saved);
    const next = await poll(legacyConnection(USER), path, state, { markAsRead: true });
    expect(uids(next)).toEqual(added);
  });

  test("changing the mailbox input starts a new baseline for that mailbox", async () => {
    const one = await seedMailbox(USER, { prefix: "SwitchA", count: 1 });
    const two = await seedMailbox(USER, { prefix: "SwitchB", count: 3 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, one.path, state);
    await append(USER, one.path, ["for A"]);
    const switched = await poll(connection, two.path, state);
    expect(switched.data.messages).toEqual([]);
    const uidValidity = await withDirect(USER, (client) => uidValidityOf(client, two.path));
    expect(cursor(state)).toEqual({ mailbox: two.path, uidValidity, lastUid: two.uids[2] });
  });
});

describe("newEmails: content and the legacy server", () => {
  const USER = "test19";

  test("fetchContent delivers text, HTML, headers and attachment metadata without bytes, and sets no \\Seen", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Content", count: 0 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    await poll(connection, path, state, { fetchContent: true });
    const raw = [
      "Received: from a.example.com by b.example.com; Tue, 24 Nov 2026 10:00:01 +0000",
      "Received: from c.example.com by a.example.com; Tue, 24 Nov 2026 10:00:00 +0000",
      "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.com>",
      "To: Bob Example <bob@example.com>",
      "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=",
      "Date: Tue, 24 Nov 2026 10:00:00 +0000",
      "Message-ID: <content-1@example.com>",
      "X-Custom: folded",
      "  value",
      "X-Note: grüße, unencoded (RFC 6532)",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="outer"',
      "",
      "--outer",
      'Content-Type: multipart/related; boundary="rel"',
      "",
      "--rel",
      'Content-Type: multipart/alternative; boundary="alt"',
      "",
      "--alt",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      "Hallo Bob, grüße!",
      "--alt",
      "Content-Type: text/html; charset=utf-8",
      "",
      '<p>Hallo Bob, <img src="cid:logo@example.com"></p>',
      "--alt--",
      "--rel",
      "Content-Type: image/png",
      "Content-ID: <logo@example.com>",
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.alloc(300, 7).toString("base64"),
      "--rel--",
      "--outer",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Disposition: attachment; filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt",
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("x".repeat(1234)).toString("base64"),
      "--outer--",
      "",
    ].join("\r\n");
    const [uid] = await appendRaw(USER, path, [raw]);

    const result = await poll(connection, path, state, { fetchContent: true });
    expect(uids(result)).toEqual([uid]);
    const [message] = result.data.messages;
    expect(Object.keys(message).sort()).toEqual([
      "attachments",
      "envelope",
      "flags",
      "headers",
      "html",
      "internalDate",
      "replyText",
      "size",
      "text",
      "uid",
    ]);
    expect(message.text).toBe("Hallo Bob, grüße!");
    expect(message.replyText).toBe("Hallo Bob, grüße!");
    expect(message.html).toBe('<p>Hallo Bob, <img src="cid:logo@example.com"></p>');
    expect(message.headers).toEqual({
      received: [
        "from a.example.com by b.example.com; Tue, 24 Nov 2026 10:00:01 +0000",
        "from c.example.com by a.example.com; Tue, 24 Nov 2026 10:00:00 +0000",
      ],
      from: "Jürgen Müller <juergen@example.com>",
      to: "Bob Example <bob@example.com>",
      subject: "Grüße aus Köln",
      date: "Tue, 24 Nov 2026 10:00:00 +0000",
      "message-id": "<content-1@example.com>",
      "x-custom": "folded value",
      "x-note": "grüße, unencoded (RFC 6532)",
      "mime-version": "1.0",
      "content-type": 'multipart/mixed; boundary="outer"',
    });
    expect(message.attachments).toEqual([
      {
        partId: "1.2",
        filename: null,
        contentType: "image/png",
        size: 300,
        contentId: "logo@example.com",
        inline: true,
      },
      {
        partId: "2",
        filename: "Grüße.txt",
        contentType: "text/plain",
        size: 1234,
        contentId: null,
        inline: false,
      },
    ]);
    expect((message.envelope as { subject: string }).subject).toBe("Grüße aus Köln");
    expect(await flagsByUid(USER, path)).toEqual({ [uid]: [] });
  });

  test("the legacy server (no CONDSTORE, UIDPLUS, MOVE): baseline, new messages, markAsRead, an empty poll of one STATUS", async () => {
    const { path, uids: old } = await seedMailbox(USER, { prefix: "Legacy", count: 2 });
    const state: Record<string, unknown> = {};
    const connection = legacyConnection(USER);
    expect((await poll(connection, path, state, { markAsRead: true })).data.messages).toEqual([]);
    const added = await append(USER, path, ["legacy 1", "legacy 2"]);
    const result = await poll(connection, path, state, { markAsRead: true });
    expect(uids(result)).toEqual(added);
    expect(await flagsByUid(USER, path)).toEqual({
      [old[0]]: [],
      [old[1]]: [],
      [added[0]]: ["\\Seen"],
      [added[1]]: ["\\Seen"],
    });
    const empty = await poll(connection, path, state, { markAsRead: true });
    expect(empty.noChanges).toBe(true);
    expect(mailboxCommands(empty)).toEqual(["STATUS"]);
  });
});
