import { ImapError, InputError } from "../src/errors";
import {
  failure,
  harness,
  legacyConnection,
  rfc822,
  tlsConnection,
  uniqueName,
  withDirect,
} from "./helpers";

const USER = "test07";
const NOWHERE = tlsConnection(USER, { port: "1" });

/** Every mailbox of the account with whether it is subscribed, read by a separate client. */
async function mailboxes(): Promise<Map<string, boolean>> {
  return withDirect(
    USER,
    async (client) =>
      new Map((await client.list()).map((entry) => [entry.path, entry.subscribed === true])),
  );
}

async function messageCount(path: string): Promise<number> {
  return withDirect(USER, async (client) => {
    const s = await client.status(path, { messages: true });
    return s ? (s.messages ?? -1) : -1;
  });
}

describe("renameMailbox", () => {
  test("renames a mailbox with its messages", async () => {
    const path = uniqueName("Old");
    const newPath = `${uniqueName("Archive")}/New name`;
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(path);
      await client.append(path, rfc822({ subject: "one" }));
      await client.append(path, rfc822({ subject: "two" }));
    });
    const { data } = (await harness.action("renameMailbox", {
      connection: tlsConnection(USER),
      path,
      newPath,
    })) as { data: unknown };
    expect(data).toEqual({ path, newPath });
    const after = await mailboxes();
    expect(after.has(path)).toBe(false);
    expect(after.has(newPath)).toBe(true);
    expect(await messageCount(newPath)).toBe(2);
  });

  test.each([
    ["main", tlsConnection(USER)],
    ["legacy", legacyConnection(USER)],
  ])("non-ASCII names work both ways (%s)", async (_kind, connection) => {
    const base = uniqueName("Projekte");
    const path = `${base}/Grüße & 日本語`;
    const newPath = `${base}/Erledigt – Ærø`;
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(path);
      await client.append(path, rfc822({ subject: "Grüße" }));
    });
    const { data } = (await harness.action("renameMailbox", { connection, path, newPath })) as {
      data: unknown;
    };
    expect(data).toEqual({ path, newPath });
    const after = await mailboxes();
    expect([after.has(path), after.has(newPath)]).toEqual([false, true]);
    expect(await messageCount(newPath)).toBe(1);
  });

  test("a missing mailbox is a clear error, and nothing is created", async () => {
    const path = uniqueName("Missing");
    const newPath = uniqueName("Target");
    const err = await failure(() =>
      harness.action("renameMailbox", { connection: tlsConnection(USER), path, newPath }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toBe(
      `The mailbox "${path}" does not exist. Check the path (the List Mailboxes action shows every path) or create it first.`,
    );
    expect((await mailboxes()).has(newPath)).toBe(false);
  });

  test("an existing new path is a clear error, and both mailboxes stay as they were", async () => {
    const path = uniqueName("Source");
    const newPath = uniqueName("Taken");
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(path);
      await client.append(path, rfc822({ subject: "mine" }));
      await client.mailboxCreate(newPath);
    });
    const err = await failure(() =>
      harness.action("renameMailbox", { connection: tlsConnection(USER), path, newPath }),
    );
    expect(err.code).toBe("MAILBOX_EXISTS");
    expect(err.message).toBe(
      `Could not rename the mailbox "${path}" to "${newPath}": a mailbox named "${newPath}" already exists. Nothing was changed; choose another name.`,
    );
    expect([await messageCount(path), await messageCount(newPath)]).toEqual([1, 0]);
  });

  const inboxRefused =
    "Renaming INBOX is refused: on many servers it moves all of INBOX's messages into a new mailbox and leaves INBOX empty. Create the new mailbox and move the messages instead.";
  test.each([
    [{ path: "INBOX", newPath: "Old Inbox" }, inboxRefused],
    [{ path: "inbox", newPath: "Old Inbox" }, inboxRefused],
    [{ path: "Work", newPath: "Inbox" }, "New Path cannot be INBOX: INBOX always exists."],
    [
      { path: "Work", newPath: "Work" },
      'New Path is the same as Path ("Work"): nothing to rename.',
    ],
    [{ path: "Work", newPath: "" }, "New Path is empty: give a mailbox path such as INBOX."],
    [{ path: "", newPath: "Work" }, "Path is empty: give a mailbox path such as INBOX."],
  ])("%j fails before connecting", async (params, message) => {
    const err = await failure(() =>
      harness.action("renameMailbox", { connection: NOWHERE, ...params }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(message);
  });
});
