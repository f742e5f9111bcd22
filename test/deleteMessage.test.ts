import { ImapError, InputError } from "../src/errors";
import {
  failure,
  flagsByUid,
  harness,
  legacyConnection,
  seedMailbox,
  server,
  tlsConnection,
  withDirectMailbox,
} from "./helpers";
import { rewriteProxy } from "./rewriteProxy";

const USER = "test04";
const LEGACY_USER = "test05";
const PROXY_USER = "test09";
const NOWHERE = tlsConnection(USER, { port: "1" });

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

/** Another client marks a message \Deleted and does not expunge it. */
async function markDeleted(user: string, path: string, uid: number): Promise<void> {
  await withDirectMailbox(user, path, { readOnly: false }, async (client) => {
    await client.messageFlagsAdd(String(uid), ["\\Deleted"], { uid: true });
  });
}

const seed = (user: string, count: number, prefix = "src") =>
  seedMailbox(user, { prefix, count, subject: (i) => `Message ${i + 1}` });

describe("deleteMessage", () => {
  test("expunges exactly that message; a neighbour another client flagged \\Deleted survives (UIDPLUS)", async () => {
    const { path, uids } = await seed(USER, 3);
    await markDeleted(USER, path, uids[0]);
    const { data } = (await harness.action("deleteMessage", {
      connection: tlsConnection(USER),
      mailbox: path,
      uid: String(uids[1]),
    })) as { data: unknown };
    expect(data).toBe(true);
    expect(await flagsByUid(USER, path)).toEqual({ [uids[0]]: ["\\Deleted"], [uids[2]]: [] });
  });

  test("without UIDPLUS: refuses while another message carries \\Deleted, naming it, and changes nothing", async () => {
    const { path, uids } = await seed(LEGACY_USER, 3);
    await markDeleted(LEGACY_USER, path, uids[0]);
    const err = await failure(() =>
      harness.action("deleteMessage", {
        connection: legacyConnection(LEGACY_USER),
        mailbox: path,
        uid: String(uids[1]),
      }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("UNSAFE_EXPUNGE");
    expect(err.message).toBe(
      `Could not delete the message (UID ${uids[1]} in mailbox "${path}"): the server has no UIDPLUS extension, so removing a message takes a plain EXPUNGE, which would also remove the other messages marked \\Deleted but not yet expunged (UID ${uids[0]}). Nothing was changed. Expunge or undelete those messages first, then retry.`,
    );
    expect(await flagsByUid(LEGACY_USER, path)).toEqual({
      [uids[0]]: ["\\Deleted"],
      [uids[1]]: [],
      [uids[2]]: [],
    });
  });

  test("without UIDPLUS: deletes the message when no other one carries \\Deleted", async () => {
    const { path, uids } = await seed(LEGACY_USER, 3);
    const { data } = (await harness.action("deleteMessage", {
      connection: legacyConnection(LEGACY_USER),
      mailbox: path,
      uid: String(uids[1]),
    })) as { data: unknown };
    expect(data).toBe(true);
    expect(await subjects(LEGACY_USER, path)).toEqual({
      [uids[0]]: "Message 1",
      [uids[2]]: "Message 3",
    });
  });

  test("without UIDPLUS: a \\Deleted flag another client sets while deleting gives the target its flags back", async () => {
    const { path, uids } = await seed(PROXY_USER, 3);
    // The reply to our STORE +FLAGS (\Deleted) is held until another client has marked a neighbour.
    let stores = 0;
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      {
        toClient: async (line) => {
          if (/^\S+ OK .*Store completed/i.test(line) && stores++ === 0)
            await markDeleted(PROXY_USER, path, uids[2]);
          return line;
        },
      },
    );
    try {
      const err = await failure(() =>
        harness.action("deleteMessage", {
          connection: legacyConnection(PROXY_USER, { port: String(proxy.port) }),
          mailbox: path,
          uid: String(uids[1]),
        }),
      );
      expect(err.code).toBe("UNSAFE_EXPUNGE");
      expect(err.message).toContain(`(UID ${uids[2]}). Nothing was changed.`);
    } finally {
      await proxy.close();
    }
    expect(stores).toBe(2);
    expect(await flagsByUid(PROXY_USER, path)).toEqual({
      [uids[0]]: [],
      [uids[1]]: [],
      [uids[2]]: ["\\Deleted"],
    });
  });

  test("a UID that names no message is a clear error; a retry after success is one too", async () => {
    const { path, uids } = await seed(USER, 2);
    await harness.action("deleteMessage", {
      connection: tlsConnection(USER),
      mailbox: path,
      uid: String(uids[0]),
    });
    const err = await failure(() =>
      harness.action("deleteMessage", {
        connection: tlsConnection(USER),
        mailbox: path,
        uid: String(uids[0]),
      }),
    );
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
    expect(err.message).toBe(
      `Could not delete the message: the mailbox "${path}" has no message with UID ${uids[0]}, so nothing was changed. Check the UIDs: they come from Search / List Mailbox Messages or the trigger, and a message that was moved or deleted is gone for good.`,
    );
    expect(await subjects(USER, path)).toEqual({ [uids[1]]: "Message 2" });
  });

  test.each([
    ["abc", 'UID "abc" is not a message UID: give one positive whole number, e.g. 42.'],
    ["1;2", 'UID "1;2" is not a message UID: give one positive whole number, e.g. 42.'],
    ["0", "UID 0 is out of range: UIDs run from 1 to 4294967295."],
    ["", 'UID "" is not a message UID: give one positive whole number, e.g. 42.'],
  ])("uid %j fails before connecting", async (uid, message) => {
    const err = await failure(() =>
      harness.action("deleteMessage", { connection: NOWHERE, mailbox: "INBOX", uid }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(message);
  });
});
