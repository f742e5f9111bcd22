import { InputError } from "../src/errors";
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
import { rewriteProxy } from "./rewriteProxy";

const USER = "test04";
const LEGACY_USER = "test05";
const PROXY_USER = "test09";
const NOWHERE = tlsConnection(USER, { port: "1" });

type Transfer = {
  path: string;
  destination: string;
  uidValidity: string;
  uidMap: { sourceUid: number; destinationUid: number | null }[];
};

/** Subject of every message of a mailbox by UID, read by a separate client. */
async function subjects(user: string, path: string): Promise<Record<number, string>> {
  return withDirectMailbox(user, path, { readOnly: true }, async (client) => {
    const out: Record<number, string> = {};
    if (client.mailbox && client.mailbox.exists === 0) return out;
    for (const msg of await client.fetchAll("1:*", { uid: true, envelope: true }, { uid: true }))
      out[msg.uid] = msg.envelope?.subject ?? "";
    return out;
  });
}

async function status(
  user: string,
  path: string,
): Promise<{ uidNext: number; uidValidity: string }> {
  return withDirect(user, async (client) => {
    const s = await client.status(path, { uidNext: true, uidValidity: true });
    if (!s) throw new Error(`status of ${path} failed`);
    return { uidNext: s.uidNext ?? 0, uidValidity: String(s.uidValidity) };
  });
}

async function createMailbox(user: string, path: string): Promise<void> {
  await withDirect(user, (client) => client.mailboxCreate(path));
}

/** Another client marks a message \Deleted and does not expunge it. */
async function markDeleted(user: string, path: string, uid: number): Promise<void> {
  await withDirectMailbox(user, path, { readOnly: false }, async (client) => {
    await client.messageFlagsAdd(String(uid), ["\\Deleted"], { uid: true });
  });
}

/** A source and a destination mailbox with non-ASCII names (modified UTF-7 on the wire), and one message in the source. */
async function nonAsciiMailboxes(
  user: string,
  destinationName: string,
  subject: string,
): Promise<{ source: string; destination: string; uid: number }> {
  const base = uniqueName("Projekte");
  const source = `${base}/Grüße & 日本語`;
  const destination = `${base}/${destinationName}`;
  await createMailbox(user, source);
  await createMailbox(user, destination);
  const uid = await withDirect(user, async (client) => {
    const appended = await client.append(source, rfc822({ subject }));
    return appended && appended.uid ? appended.uid : 0;
  });
  return { source, destination, uid };
}

const seed = (user: string, count: number, prefix = "src") =>
  seedMailbox(user, { prefix, count, subject: (i) => `Message ${i + 1}` });

async function transfer(
  key: "copyMessage" | "moveMessage",
  connection: unknown,
  params: Fields,
): Promise<Transfer> {
  const { data } = (await harness.action(key, { connection, ...params })) as { data: Transfer };
  return data;
}

describe("copyMessage", () => {
  test("copies the named messages and maps each source UID to its copy (UIDPLUS)", async () => {
    const { path, uids } = await seed(USER, 3);
    const destination = uniqueName("dest");
    await createMailbox(USER, destination);
    const before = await status(USER, destination);
    const out = await transfer("copyMessage", tlsConnection(USER), {
      mailbox: path,
      uids: `${uids[0]},${uids[2]}`,
      destination,
    });
    const sourceValidity = (await status(USER, path)).uidValidity;
    expect(out).toEqual({
      path,
      destination,
      uidValidity: before.uidValidity,
      sourceUidValidity: sourceValidity,
      uidMap: [
        { sourceUid: uids[0], destinationUid: before.uidNext },
        { sourceUid: uids[2], destinationUid: before.uidNext + 1 },
      ],
    });
    expect(await subjects(USER, destination)).toEqual({
      [before.uidNext]: "Message 1",
      [before.uidNext + 1]: "Message 3",
    });
    expect(await subjects(USER, path)).toEqual({
      [uids[0]]: "Message 1",
      [uids[1]]: "Message 2",
      [uids[2]]: "Message 3",
    });
  });

  test("without UIDPLUS the copies are found by Message-ID and size, also between two copies of one message", async () => {
    const { path, uids } = await seed(LEGACY_USER, 2);
    // A third message with the same Message-ID as the first but another size, and an exact duplicate of it.
    const sameId = await withDirect(LEGACY_USER, async (client) => {
      const lock = await client.getMailboxLock(path, { readOnly: true });
      const first = await client.fetchOne(
        String(uids[0]),
        { uid: true, source: true },
        { uid: true },
      );
      lock.release();
      if (!first || !first.source) throw new Error("fetch failed");
      const longer = first.source.toString().replace("Body of", "Longer body of");
      const a = await client.append(path, longer);
      const b = await client.append(path, first.source);
      return [a && a.uid, b && b.uid] as number[];
    });
    // Another message already in the destination with the same Message-ID must not be taken for a copy.
    const destination = uniqueName("dest");
    await createMailbox(LEGACY_USER, destination);
    await withDirect(LEGACY_USER, async (client) => {
      const lock = await client.getMailboxLock(path, { readOnly: true });
      const first = await client.fetchOne(
        String(uids[0]),
        { uid: true, source: true },
        { uid: true },
      );
      lock.release();
      if (!first || !first.source) throw new Error("fetch failed");
      await client.append(destination, first.source);
    });
    const before = await status(LEGACY_USER, destination);
    const all = [uids[0], uids[1], sameId[0], sameId[1]];
    const out = await transfer("copyMessage", legacyConnection(LEGACY_USER), {
      mailbox: path,
      uids: all.join(","),
      destination,
    });
    const sourceValidity = (await status(LEGACY_USER, path)).uidValidity;
    expect(out).toEqual({
      path,
      destination,
      uidValidity: before.uidValidity,
      sourceUidValidity: sourceValidity,
      uidMap: all.map((uid, i) => ({ sourceUid: uid, destinationUid: before.uidNext + i })),
    });
    const copies = await withDirectMailbox(
      LEGACY_USER,
      destination,
      { readOnly: true },
      async (client) => {
        return (await client.fetchAll("1:*", { uid: true, size: true }, { uid: true })).map((m) => [
          m.uid,
          m.size,
        ]);
      },
    );
    const sizes = await withDirectMailbox(LEGACY_USER, path, { readOnly: true }, async (client) => {
      return new Map(
        (await client.fetchAll(all.join(","), { uid: true, size: true }, { uid: true })).map(
          (m) => [m.uid, m.size],
        ),
      );
    });
    expect(copies.slice(1)).toEqual(all.map((uid, i) => [before.uidNext + i, sizes.get(uid)]));
  });

  test("a destination that does not exist is a clear error, and nothing is copied or created", async () => {
    const { path, uids } = await seed(USER, 1);
    const destination = uniqueName("missing");
    const err = await failure(() =>
      transfer("copyMessage", tlsConnection(USER), {
        mailbox: path,
        uids: String(uids[0]),
        destination,
      }),
    );
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toMatch(new RegExp(`^The mailbox "${destination}" does not exist\\.`));
    const paths = await withDirect(USER, async (client) =>
      (await client.list()).map((entry) => entry.path),
    );
    expect(paths).not.toContain(destination);
    expect(await subjects(USER, path)).toEqual({ [uids[0]]: "Message 1" });
  });

  test("a UID that names no message copies nothing", async () => {
    const { path, uids } = await seed(USER, 2);
    const destination = uniqueName("dest");
    await createMailbox(USER, destination);
    const err = await failure(() =>
      transfer("copyMessage", tlsConnection(USER), {
        mailbox: path,
        uids: `${uids[0]},${uids[1] + 7}`,
        destination,
      }),
    );
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
    expect(err.message).toContain(
      `has no message with UID ${uids[1] + 7}, so nothing was changed.`,
    );
    expect(await subjects(USER, destination)).toEqual({});
  });

  test.each([
    ["main", USER],
    ["legacy", LEGACY_USER],
  ])("non-ASCII source and destination names work (%s)", async (kind, user) => {
    const { source, destination, uid } = await nonAsciiMailboxes(user, "Archiv – Ærø", "Grüße");
    const { uidValidity } = await status(user, destination);
    const connection = kind === "main" ? tlsConnection(user) : legacyConnection(user);
    const out = await transfer("copyMessage", connection, {
      mailbox: source,
      uids: String(uid),
      destination,
    });
    const sourceValidity = (await status(user, source)).uidValidity;
    expect(out).toEqual({
      path: source,
      destination,
      uidValidity,
      sourceUidValidity: sourceValidity,
      uidMap: [{ sourceUid: uid, destinationUid: 1 }],
    });
    expect(await subjects(user, destination)).toEqual({ 1: "Grüße" });
    expect(await subjects(user, source)).toEqual({ [uid]: "Grüße" });
  });
});

describe("moveMessage", () => {
  test("moves with MOVE and UIDPLUS: the messages leave the source and the map names their new UIDs", async () => {
    const { path, uids } = await seed(USER, 3);
    const destination = uniqueName("dest");
    await createMailbox(USER, destination);
    const before = await status(USER, destination);
    const out = await transfer("moveMessage", tlsConnection(USER), {
      mailbox: path,
      uids: `${uids[0]}:${uids[1]}`,
      destination,
    });
    const sourceValidity = (await status(USER, path)).uidValidity;
    expect(out).toEqual({
      path,
      destination,
      uidValidity: before.uidValidity,
      sourceUidValidity: sourceValidity,
      uidMap: [
        { sourceUid: uids[0], destinationUid: before.uidNext },
        { sourceUid: uids[1], destinationUid: before.uidNext + 1 },
      ],
    });
    expect(await subjects(USER, path)).toEqual({ [uids[2]]: "Message 3" });
    expect(await subjects(USER, destination)).toEqual({
      [before.uidNext]: "Message 1",
      [before.uidNext + 1]: "Message 2",
    });
  });

  test("without MOVE and UIDPLUS: copies, finds the copies, removes exactly the moved messages", async () => {
    const { path, uids } = await seed(LEGACY_USER, 4);
    const destination = uniqueName("dest");
    await createMailbox(LEGACY_USER, destination);
    const before = await status(LEGACY_USER, destination);
    const out = await transfer("moveMessage", legacyConnection(LEGACY_USER), {
      mailbox: path,
      uids: `${uids[1]},${uids[3]}`,
      destination,
    });
    const sourceValidity = (await status(LEGACY_USER, path)).uidValidity;
    expect(out).toEqual({
      path,
      destination,
      uidValidity: before.uidValidity,
      sourceUidValidity: sourceValidity,
      uidMap: [
        { sourceUid: uids[1], destinationUid: 1 },
        { sourceUid: uids[3], destinationUid: 2 },
      ],
    });
    expect(await subjects(LEGACY_USER, path)).toEqual({
      [uids[0]]: "Message 1",
      [uids[2]]: "Message 3",
    });
    expect(await subjects(LEGACY_USER, destination)).toEqual({ 1: "Message 2", 2: "Message 4" });
  });

  test("without MOVE and UIDPLUS: refuses before copying while another message carries \\Deleted", async () => {
    const { path, uids } = await seed(LEGACY_USER, 3);
    await markDeleted(LEGACY_USER, path, uids[2]);
    const destination = uniqueName("dest");
    await createMailbox(LEGACY_USER, destination);
    const err = await failure(() =>
      transfer("moveMessage", legacyConnection(LEGACY_USER), {
        mailbox: path,
        uids: String(uids[0]),
        destination,
      }),
    );
    expect(err.code).toBe("UNSAFE_EXPUNGE");
    expect(err.message).toBe(
      `Could not remove the copied messages from the source (UID ${uids[0]} in mailbox "${path}"): the server has no UIDPLUS extension, so removing a message takes a plain EXPUNGE, which would also remove the other messages marked \\Deleted but not yet expunged (UID ${uids[2]}). Nothing was changed. Expunge or undelete those messages first, then retry.`,
    );
    expect(await subjects(LEGACY_USER, destination)).toEqual({});
    expect(await flagsByUid(LEGACY_USER, path)).toEqual({
      [uids[0]]: [],
      [uids[1]]: [],
      [uids[2]]: ["\\Deleted"],
    });
  });

  test.each([
    ["main", USER],
    ["legacy", LEGACY_USER],
  ])(
    "a destination that does not exist: error, nothing moved, nothing lost (%s)",
    async (kind, user) => {
      const { path, uids } = await seed(user, 2);
      const destination = uniqueName("missing");
      const connection = kind === "main" ? tlsConnection(user) : legacyConnection(user);
      const err = await failure(() =>
        transfer("moveMessage", connection, { mailbox: path, uids: `${uids[0]}:*`, destination }),
      );
      expect(err.code).toBe("MAILBOX_NOT_FOUND");
      expect(err.message).toMatch(new RegExp(`^The mailbox "${destination}" does not exist\\.`));
      expect(await flagsByUid(user, path)).toEqual({ [uids[0]]: [], [uids[1]]: [] });
    },
  );

  test.each([
    ["main", USER],
    ["legacy", LEGACY_USER],
  ])("non-ASCII mailbox names work (%s)", async (kind, user) => {
    const { source, destination, uid } = await nonAsciiMailboxes(user, "Erledigt ✓", "Umzug");
    const { uidValidity } = await status(user, destination);
    const connection = kind === "main" ? tlsConnection(user) : legacyConnection(user);
    const out = await transfer("moveMessage", connection, {
      mailbox: source,
      uids: String(uid),
      destination,
    });
    const sourceValidity = (await status(user, source)).uidValidity;
    expect(out).toEqual({
      path: source,
      destination,
      uidValidity,
      sourceUidValidity: sourceValidity,
      uidMap: [{ sourceUid: uid, destinationUid: 1 }],
    });
    expect(await subjects(user, source)).toEqual({});
    expect(await subjects(user, destination)).toEqual({ 1: "Umzug" });
  });

  test("the source as destination is refused before connecting", async () => {
    const err = await failure(() =>
      transfer("moveMessage", NOWHERE, { mailbox: "inbox", uids: "1", destination: "INBOX" }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(
      'Destination "INBOX" is the mailbox the messages are in: give another mailbox.',
    );
  });
});

/** Servers we cannot run here, made from the test server by rewriting lines. */
describe("moveMessage on servers with one of MOVE and UIDPLUS", () => {
  // COMPRESS goes too: a deflated stream has no lines to rewrite.
  const dropCapability = (name: string) => (line: string) =>
    /CAPABILITY/.test(line)
      ? line.replace(new RegExp(` (?:${name}|COMPRESS=DEFLATE)(?=[ \\]\\r])`, "g"), "")
      : line;

  test("UIDPLUS without MOVE: copies, checks the map, then UID EXPUNGEs exactly the moved messages", async () => {
    const { path, uids } = await seed(PROXY_USER, 3);
    await markDeleted(PROXY_USER, path, uids[2]);
    const destination = uniqueName("dest");
    await createMailbox(PROXY_USER, destination);
    const before = await status(PROXY_USER, destination);
    const sent: string[] = [];
    const proxy = await rewriteProxy(
      { host: server.host, port: server.plainPort },
      {
        toClient: dropCapability("MOVE"),
        toServer: (line) => {
          sent.push(line.split(" ").slice(1, 3).join(" "));
          return line;
        },
      },
    );
    try {
      const out = await transfer(
        "moveMessage",
        legacyConnection(PROXY_USER, { port: String(proxy.port) }),
        { mailbox: path, uids: String(uids[0]), destination },
      );
      expect(out.uidMap).toEqual([{ sourceUid: uids[0], destinationUid: before.uidNext }]);
    } finally {
      await proxy.close();
    }
    expect(sent).toEqual(expect.arrayContaining(["UID COPY", "UID EXPUNGE"]));
    expect(sent).not.toContain("UID MOVE");
    // The message another client marked \Deleted is still there.
    expect(await flagsByUid(PROXY_USER, path)).toEqual({ [uids[1]]: [], [uids[2]]: ["\\Deleted"] });
    expect(await subjects(PROXY_USER, destination)).toEqual({ [before.uidNext]: "Message 1" });
  });

  test("MOVE without UIDPLUS: the new UIDs are found by Message-ID and size", async () => {
    const { path, uids } = await seed(PROXY_USER, 2);
    const destination = uniqueName("dest");
    await createMailbox(PROXY_USER, destination);
    const before = await status(PROXY_USER, destination);
    const sent: string[] = [];
    const proxy = await rewriteProxy(
      { host: server.host, port: server.plainPort },
      {
        toClient: dropCapability("UIDPLUS"),
        toServer: (line) => {
          sent.push(line.split(" ").slice(1, 3).join(" "));
          return line;
        },
      },
    );
    try {
      const out = await transfer(
        "moveMessage",
        legacyConnection(PROXY_USER, { port: String(proxy.port) }),
        { mailbox: path, uids: `${uids[0]}:*`, destination },
      );
      const sourceValidity = (await status(PROXY_USER, path)).uidValidity;
      expect(out).toEqual({
        path,
        destination,
        uidValidity: before.uidValidity,
        sourceUidValidity: sourceValidity,
        uidMap: [
          { sourceUid: uids[0], destinationUid: before.uidNext },
          { sourceUid: uids[1], destinationUid: before.uidNext + 1 },
        ],
      });
    } finally {
      await proxy.close();
    }
    expect(sent).toContain("UID MOVE");
    expect(sent).not.toContain("UID COPY");
    expect(await subjects(PROXY_USER, path)).toEqual({});
    expect(await subjects(PROXY_USER, destination)).toEqual({
      [before.uidNext]: "Message 1",
      [before.uidNext + 1]: "Message 2",
    });
  });

  test("a copy that cannot be confirmed removes nothing from the source", async () => {
    const { path, uids } = await seed(PROXY_USER, 2);
    const destination = uniqueName("dest");
    await createMailbox(PROXY_USER, destination);
    // The server answers OK to COPY without copying anything.
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      { toServer: (line) => line.replace(/^(\S+) UID COPY .*\r\n$/, "$1 NOOP\r\n") },
    );
    try {
      const err = await failure(() =>
        transfer("moveMessage", legacyConnection(PROXY_USER, { port: String(proxy.port) }), {
          mailbox: path,
          uids: `${uids[0]},${uids[1]}`,
          destination,
        }),
      );
      expect(err.code).toBe("COPY_INCOMPLETE");
      expect(err.message).toBe(
        `Could not move messages to "${destination}": the server has no MOVE, and the copy of UID ${uids[0]}, ${uids[1]} could not be confirmed in "${destination}", so nothing was removed from "${path}". Check "${destination}" for copies before retrying: the messages that were copied are there as well as in "${path}".`,
      );
    } finally {
      await proxy.close();
    }
    expect(await flagsByUid(PROXY_USER, path)).toEqual({ [uids[0]]: [], [uids[1]]: [] });
  });
});
