import type { ImapFlow } from "imapflow";
import { ImapError, InputError } from "../src/errors";
import {
  failure,
  harness,
  legacyConnection,
  rfc822,
  seedMailbox,
  tlsConnection,
  uniqueName,
  withDirect,
} from "./helpers";

const USER = "test24";

async function deleteMailbox(path: string, connection = tlsConnection(USER)): Promise<unknown> {
  const { data } = (await harness.action("deleteMailbox", { connection, path })) as {
    data: unknown;
  };
  return data;
}

async function paths(): Promise<string[]> {
  return withDirect(USER, async (client) => (await client.list()).map((entry) => entry.path));
}

async function count(client: ImapFlow, path: string): Promise<number> {
  const status = await client.status(path, { messages: true });
  if (!status) throw new Error(`status of ${path} failed`);
  return status.messages ?? -1;
}

const notFound = (path: string) =>
  `The mailbox "${path}" does not exist. Check the path (the List Mailboxes action shows every path) or create it first.`;

describe("deleteMailbox", () => {
  test("deletes the mailbox with its messages and nothing else", async () => {
    const doomed = await seedMailbox(USER, { prefix: "Doomed", count: 2 });
    const neighbour = await seedMailbox(USER, { prefix: "Neighbour", count: 1 });
    expect(await deleteMailbox(doomed.path)).toEqual({ path: doomed.path, deleted: true });
    const after = await paths();
    expect(after).not.toContain(doomed.path);
    expect(after).toContain(neighbour.path);
    expect(await withDirect(USER, (client) => count(client, neighbour.path))).toBe(1);
  });

  test("a Unicode name in a hierarchy: only that mailbox goes, its parent stays", async () => {
    const parent = uniqueName("Projekte");
    const child = `${parent}/Grüße & 日本語`;
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(parent);
      await client.mailboxCreate(child);
    });
    expect(await deleteMailbox(child)).toEqual({ path: child, deleted: true });
    const after = await paths();
    expect([after.includes(child), after.includes(parent)]).toEqual([false, true]);
  });

  test("a mailbox with a child: the child and its messages survive", async () => {
    const parent = uniqueName("Parent");
    const child = `${parent}/Child`;
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(parent);
      await client.mailboxCreate(child);
      await client.append(parent, rfc822({ subject: "in the parent" }));
      await client.append(child, rfc822({ subject: "in the child" }));
    });
    expect(await deleteMailbox(parent)).toEqual({ path: parent, deleted: true });
    // Dovecot removes the parent's messages and keeps its name as the child's parent, which can no longer be opened
    expect(await withDirect(USER, (client) => count(client, child))).toBe(1);
    expect(await withDirect(USER, (client) => client.status(parent, { messages: true }))).toBe(
      false,
    );
    expect(await paths()).toContain(child);
  });

  test("a mailbox that does not exist is a clear error naming it; a retry after success fails the same way", async () => {
    const missing = await failure(() => deleteMailbox("No/Such Box"));
    expect(missing).toBeInstanceOf(ImapError);
    expect([missing.code, missing.message, missing.mailbox]).toEqual([
      "MAILBOX_NOT_FOUND",
      notFound("No/Such Box"),
      "No/Such Box",
    ]);
    const once = await seedMailbox(USER, { prefix: "Once", count: 0 });
    await deleteMailbox(once.path);
    const again = await failure(() => deleteMailbox(once.path));
    expect([again.code, again.message]).toEqual(["MAILBOX_NOT_FOUND", notFound(once.path)]);
  });

  test.each(["INBOX", "inbox", "Inbox", "iNbOx"])(
    "%s is refused before connecting, and INBOX keeps its messages",
    async (path) => {
      await withDirect(USER, (client) => client.append("INBOX", rfc822({ subject: "keep me" })));
      const before = await withDirect(USER, (client) => count(client, "INBOX"));
      // port 1 refuses connections: an InputError proves nothing was attempted
      const err = await failure(() => deleteMailbox(path, tlsConnection(USER, { port: "1" })));
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toBe(
        `Path "${path}" is the INBOX, which cannot be deleted. Give the path of another mailbox.`,
      );
      expect(await withDirect(USER, (client) => count(client, "INBOX"))).toBe(before);
    },
  );

  test.each([
    ["", "Path is empty: give a mailbox path such as INBOX."],
    ["Bad\u0007Name", 'Path "Bad\u0007Name" contains control characters.'],
  ])("bad path %j is refused before connecting", async (path, message) => {
    const err = await failure(() => deleteMailbox(path, tlsConnection(USER, { port: "1" })));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(message);
  });

  test("on the server without SPECIAL-USE, UIDPLUS, MOVE", async () => {
    const legacy = await seedMailbox(USER, { prefix: "Legacy", count: 1 });
    expect(await deleteMailbox(legacy.path, legacyConnection(USER))).toEqual({
      path: legacy.path,
      deleted: true,
    });
    expect(await paths()).not.toContain(legacy.path);
    const err = await failure(() => deleteMailbox(legacy.path, legacyConnection(USER)));
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
  });
});
