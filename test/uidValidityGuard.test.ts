/**
 * The UIDVALIDITY guard of every write by UID: a flow searches, the mailbox is deleted and
 * recreated (its UIDs start again and now name other messages), and the write that follows with
 * the uidValidity of the search must fail and change nothing.
 */
import { InputError } from "../src/errors";
import {
  failure,
  flagsByUid,
  harness,
  rfc822,
  tlsConnection,
  uniqueName,
  withDirect,
} from "./helpers";

const USER = "test36";
const NOWHERE = tlsConnection(USER, { port: "1" });

async function appendTwo(path: string, prefix: string): Promise<number[]> {
  return withDirect(USER, async (client) => {
    const uids: number[] = [];
    for (const n of [1, 2]) {
      const result = await client.append(path, rfc822({ subject: `${prefix} ${n}` }));
      if (!result || !result.uid) throw new Error(`append to ${path} failed`);
      uids.push(result.uid);
    }
    return uids;
  });
}

/** A mailbox searched (the flow's view: UIDs and uidValidity), then deleted and recreated with other messages under the same UIDs. */
async function recreatedAfterSearch(): Promise<{
  path: string;
  uids: number[];
  searched: string;
  now: string;
}> {
  const path = uniqueName("guard");
  await withDirect(USER, (client) => client.mailboxCreate(path));
  await appendTwo(path, "old");
  const { data } = (await harness.action("searchMailbox", {
    connection: tlsConnection(USER),
    mailbox: path,
  })) as { data: { uidValidity: string; messages: { uid: number }[] } };
  const now = await withDirect(USER, async (client) => {
    await client.mailboxDelete(path);
    // Dovecot derives UIDVALIDITY from the clock: make sure the new one differs.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await client.mailboxCreate(path);
    const status = await client.status(path, { uidValidity: true });
    if (!status) throw new Error(`status of ${path} failed`);
    return String(status.uidValidity);
  });
  const uids = await appendTwo(path, "new");
  expect(uids).toEqual(data.messages.map((m) => m.uid).sort((a, b) => a - b));
  return { path, uids, searched: data.uidValidity, now };
}

async function subjects(path: string): Promise<string[]> {
  return withDirect(USER, async (client) => {
    const lock = await client.getMailboxLock(path, { readOnly: true });
    try {
      const rows = await client.fetchAll("1:*", { uid: true, envelope: true }, { uid: true });
      return rows.map((row) => row.envelope?.subject ?? "");
    } finally {
      lock.release();
    }
  });
}

describe("the uidValidity guard", () => {
  let box: { path: string; uids: number[]; searched: string; now: string };
  let destination: string;

  beforeAll(async () => {
    box = await recreatedAfterSearch();
    destination = uniqueName("guard-dest");
    await withDirect(USER, (client) => client.mailboxCreate(destination));
  });

  const writes: [string, (uids: number[]) => Record<string, unknown>, string][] = [
    ["addFlags", (u) => ({ uids: u.join(","), flags: ["\\Flagged"] }), "add flags"],
    ["removeFlags", (u) => ({ uids: u.join(","), flags: ["\\Seen"] }), "remove flags"],
    ["setFlags", (u) => ({ uids: u.join(","), flags: ["\\Seen"] }), "set flags"],
    ["copyMessage", (u) => ({ uids: String(u[0]), destination: "" }), "copy messages to"],
    ["moveMessage", (u) => ({ uids: String(u[0]), destination: "" }), "move messages to"],
    ["deleteMessage", (u) => ({ uid: String(u[0]) }), "delete the message"],
    ["deleteMessage", (u) => ({ uid: String(u[0]), mode: "trash" }), "move messages to"],
    ["archiveMessage", (u) => ({ uids: String(u[0]) }), "move messages to"],
  ];

  test.each(writes)(
    "%s with the old uidValidity fails with UIDVALIDITY_CHANGED and changes nothing",
    async (key, params, doing) => {
      const given = params(box.uids);
      const err = await failure(() =>
        harness.action(key, {
          connection: tlsConnection(USER),
          mailbox: box.path,
          ...given,
          ...(given.destination === "" ? { destination } : {}),
          uidValidity: box.searched,
        }),
      );
      expect(err.code).toBe("UIDVALIDITY_CHANGED");
      expect(err.mailbox).toBe(box.path);
      expect(err.message).toMatch(new RegExp(`^Could not ${doing}`));
      expect(err.message).toContain(
        `the mailbox "${box.path}" now has UIDVALIDITY ${box.now}, not ${box.searched} as given, so it was deleted and recreated (or the server rebuilt it) since the UIDs were read, and they may name other messages. Nothing was changed. Search the mailbox again and use the UIDs and uidValidity it returns.`,
      );
      expect(await flagsByUid(USER, box.path)).toEqual({ [box.uids[0]]: [], [box.uids[1]]: [] });
      expect(await subjects(box.path)).toEqual(["new 1", "new 2"]);
      expect(await subjects(destination)).toEqual([]);
    },
  );

  test("createReplyDraft with the old uidValidity fails with UIDVALIDITY_CHANGED and stores no draft", async () => {
    const err = await failure(() =>
      harness.action("createReplyDraft", {
        connection: tlsConnection(USER),
        mailbox: box.path,
        uid: String(box.uids[0]),
        mode: "reply",
        text: "Thanks!",
        draftsMailbox: destination,
        uidValidity: box.searched,
      }),
    );
    expect([err.code, err.mailbox]).toEqual(["UIDVALIDITY_CHANGED", box.path]);
    expect(err.message).toMatch(/^Could not draft a reply to the message: the mailbox /);
    expect(await subjects(destination)).toEqual([]);
    expect(await flagsByUid(USER, box.path)).toEqual({ [box.uids[0]]: [], [box.uids[1]]: [] });
  });

  test("with the current uidValidity the write goes ahead", async () => {
    const { data } = (await harness.action("addFlags", {
      connection: tlsConnection(USER),
      mailbox: box.path,
      uids: String(box.uids[1]),
      flags: ["\\Flagged"],
      uidValidity: box.now,
    })) as { data: unknown };
    expect(data).toEqual({
      mailbox: box.path,
      messages: [{ uid: box.uids[1], flags: ["\\Flagged"] }],
    });
    expect(await flagsByUid(USER, box.path)).toEqual({
      [box.uids[0]]: [],
      [box.uids[1]]: ["\\Flagged"],
    });
  });

  test.each([
    ["abc", 'UIDVALIDITY "abc" is not a UIDVALIDITY'],
    ["0", 'UIDVALIDITY "0" is not a UIDVALIDITY'],
    ["4294967296", 'UIDVALIDITY "4294967296" is not a UIDVALIDITY'],
  ])("uidValidity %j fails before connecting", async (uidValidity, start) => {
    const err = await failure(() =>
      harness.action("addFlags", {
        connection: NOWHERE,
        mailbox: "INBOX",
        uids: "1",
        flags: ["\\Seen"],
        uidValidity,
      }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(
      `${start}: give the uidValidity of the step that found the UIDs, a whole number from 1 to 4294967295, or leave it empty.`,
    );
  });
});
