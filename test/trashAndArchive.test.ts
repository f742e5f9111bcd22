import { InputError } from "../src/errors";
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

const USER = "test33";
const LEGACY_USER = "test34";
const NOWHERE = tlsConnection(USER, { port: "1" });

interface Disposal {
  mailbox: string;
  uids: number[];
  destination: string | null;
  destinationUids: (number | null)[];
  destinationUidValidity: string | null;
  expunged: boolean;
}

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

async function uidValidityOf(user: string, path: string): Promise<string> {
  return withDirect(user, async (client) => {
    const status = await client.status(path, { uidValidity: true });
    if (!status) throw new Error(`status of ${path} failed`);
    return String(status.uidValidity);
  });
}

/** Appends a message to `path` and returns its UID. */
async function append(user: string, path: string, subject: string, flags: string[] = []) {
  return withDirect(user, async (client) => {
    const result = await client.append(path, rfc822({ subject }), flags);
    if (!result || !result.uid) throw new Error(`append to ${path} failed`);
    return result.uid;
  });
}

async function run(action: string, params: Record<string, unknown>): Promise<Disposal> {
  const { data } = (await harness.action(action, params)) as { data: Disposal };
  return data;
}

const seed = (user: string, prefix: string) =>
  seedMailbox(user, { prefix, count: 3, subject: (i) => `${prefix} ${i + 1}` });

describe("deleteMessage with mode trash", () => {
  test("moves exactly that message to the mailbox marked \\Trash and says where it went", async () => {
    const { path, uids } = await seed(USER, "trash");
    const data = await run("deleteMessage", {
      connection: tlsConnection(USER),
      mailbox: path,
      uid: String(uids[1]),
      mode: "trash",
    });
    const trash = await subjects(USER, "Trash");
    const newUid = data.destinationUids[0] as number;
    expect(data).toEqual({
      mailbox: path,
      uids: [uids[1]],
      destination: "Trash",
      destinationUids: [newUid],
      destinationUidValidity: await uidValidityOf(USER, "Trash"),
      expunged: false,
    });
    expect(trash[newUid]).toBe("trash 2");
    expect(await subjects(USER, path)).toEqual({ [uids[0]]: "trash 1", [uids[2]]: "trash 3" });
  });

  test("a message already in the Trash is expunged, only it, and the output says so", async () => {
    const target = await append(USER, "Trash", uniqueName("in-trash"));
    const neighbour = await append(USER, "Trash", uniqueName("neighbour"), ["\\Deleted"]);
    const data = await run("deleteMessage", {
      connection: tlsConnection(USER),
      mailbox: "Trash",
      uid: String(target),
      mode: "trash",
    });
    expect(data).toEqual({
      mailbox: "Trash",
      uids: [target],
      destination: null,
      destinationUids: [],
      destinationUidValidity: null,
      expunged: true,
    });
    const flags = await flagsByUid(USER, "Trash");
    expect(flags[target]).toBeUndefined();
    expect(flags[neighbour]).toEqual(["\\Deleted"]);
  });

  test("Trash Mailbox overrides the marked one", async () => {
    const { path, uids } = await seed(USER, "trash-to");
    const bin = uniqueName("bin");
    await withDirect(USER, (client) => client.mailboxCreate(bin));
    const data = await run("deleteMessage", {
      connection: tlsConnection(USER),
      mailbox: path,
      uid: String(uids[0]),
      mode: "trash",
      trashMailbox: bin,
    });
    expect(data.destination).toBe(bin);
    expect(await subjects(USER, bin)).toEqual({
      [data.destinationUids[0] as number]: "trash-to 1",
    });
    expect(Object.values(await subjects(USER, path))).toEqual(["trash-to 2", "trash-to 3"]);
  });

  test("a server that marks no Trash: a clear error naming what it looked for, and nothing changes", async () => {
    const { path, uids } = await seed(LEGACY_USER, "no-trash");
    const err = await failure(() =>
      harness.action("deleteMessage", {
        connection: legacyConnection(LEGACY_USER),
        mailbox: path,
        uid: String(uids[0]),
        mode: "trash",
      }),
    );
    expect(err.code).toBe("SPECIAL_USE_NOT_FOUND");
    expect(err.message).toBe(
      'Could not move the messages to the Trash: the server at 127.0.0.1 marks no mailbox as \\Trash (special use), and Trash Mailbox is empty. Nothing was changed. Give the mailbox\'s path in Trash Mailbox (List Mailboxes shows every path). By its name, "Trash" may be it.',
    );
    expect(Object.keys(await flagsByUid(LEGACY_USER, path)).map(Number)).toEqual(uids);
  });

  test("without MOVE and SPECIAL-USE, Trash Mailbox works through the verified copy and an exact expunge", async () => {
    const { path, uids } = await seed(LEGACY_USER, "legacy-trash");
    const data = await run("deleteMessage", {
      connection: legacyConnection(LEGACY_USER),
      mailbox: path,
      uid: String(uids[2]),
      mode: "trash",
      trashMailbox: "Trash",
    });
    expect(data.destination).toBe("Trash");
    expect((await subjects(LEGACY_USER, "Trash"))[data.destinationUids[0] as number]).toBe(
      "legacy-trash 3",
    );
    expect(await subjects(LEGACY_USER, path)).toEqual({
      [uids[0]]: "legacy-trash 1",
      [uids[1]]: "legacy-trash 2",
    });
  });

  test("mode expunge (the default) still returns true and removes the message for good", async () => {
    const { path, uids } = await seed(USER, "expunge");
    const { data } = (await harness.action("deleteMessage", {
      connection: tlsConnection(USER),
      mailbox: path,
      uid: String(uids[0]),
      mode: "expunge",
    })) as { data: unknown };
    expect(data).toBe(true);
    expect(Object.keys(await subjects(USER, path)).map(Number)).toEqual([uids[1], uids[2]]);
  });

  test("an unknown mode fails before connecting", async () => {
    const err = await failure(() =>
      harness.action("deleteMessage", {
        connection: NOWHERE,
        mailbox: "INBOX",
        uid: "1",
        mode: "bin",
      }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('Mode must be one of "expunge", "trash", not "bin".');
  });
});

describe("archiveMessage", () => {
  test("moves exactly the named messages to the mailbox marked \\Archive", async () => {
    const { path, uids } = await seed(USER, "archive");
    const data = await run("archiveMessage", {
      connection: tlsConnection(USER),
      mailbox: path,
      uids: `${uids[0]},${uids[2]}`,
    });
    expect(data.mailbox).toBe(path);
    expect(data.uids).toEqual([uids[0], uids[2]]);
    expect(data.destination).toBe("Archive");
    expect(data.expunged).toBe(false);
    const archived = await subjects(USER, "Archive");
    expect(data.destinationUids.map((uid) => archived[uid as number])).toEqual([
      "archive 1",
      "archive 3",
    ]);
    expect(await subjects(USER, path)).toEqual({ [uids[1]]: "archive 2" });
  });

  test("a server that marks no Archive: a clear error; Archive Mailbox then works", async () => {
    const { path, uids } = await seed(LEGACY_USER, "legacy-archive");
    const err = await failure(() =>
      harness.action("archiveMessage", {
        connection: legacyConnection(LEGACY_USER),
        mailbox: path,
        uids: String(uids[0]),
      }),
    );
    expect(err.code).toBe("SPECIAL_USE_NOT_FOUND");
    expect(err.message).toBe(
      'Could not move the messages to the archive: the server at 127.0.0.1 marks no mailbox as \\Archive (special use), and Archive Mailbox is empty. Nothing was changed. Give the mailbox\'s path in Archive Mailbox (List Mailboxes shows every path). By its name, "Archive" may be it.',
    );
    expect(Object.keys(await subjects(LEGACY_USER, path)).map(Number)).toEqual(uids);
    const data = await run("archiveMessage", {
      connection: legacyConnection(LEGACY_USER),
      mailbox: path,
      uids: String(uids[0]),
      archiveMailbox: "Archive",
    });
    expect((await subjects(LEGACY_USER, "Archive"))[data.destinationUids[0] as number]).toBe(
      "legacy-archive 1",
    );
    expect(Object.keys(await subjects(LEGACY_USER, path)).map(Number)).toEqual([uids[1], uids[2]]);
  });

  test("archiving from the archive itself is refused and changes nothing", async () => {
    const uid = await append(USER, "Archive", uniqueName("archived"));
    const err = await failure(() =>
      harness.action("archiveMessage", {
        connection: tlsConnection(USER),
        mailbox: "Archive",
        uids: String(uid),
      }),
    );
    expect(err.code).toBe("SAME_MAILBOX");
    expect(err.message).toBe(
      'Could not archive messages: they are in "Archive", which is the archive mailbox itself. Nothing was changed.',
    );
    expect((await flagsByUid(USER, "Archive"))[uid]).toEqual([]);
  });
});
