import { ImapError } from "../src/errors";
import {
  failure,
  harness,
  legacyConnection,
  rfc822,
  tlsConnection,
  uniqueName,
  withDirect,
} from "./helpers";

/**
 * scripts/test-server.sh gives this user, and only this one, a quota of 1 MiB and 50 messages on
 * the main instance; the test removes what it appends, so the quota never fills up.
 */
const LIMITED = "quota";
const UNLIMITED = "test34";

async function quota(connection: unknown, mailbox: string) {
  const { data } = (await harness.action("getQuota", { connection, mailbox })) as {
    data: { mailbox: string; roots: Record<string, unknown>[] };
  };
  return data;
}

describe("getQuota", () => {
  test("reports the quota root with storage in bytes and messages, as the account uses them", async () => {
    const mailbox = `${uniqueName("Quota")}/Grüße`;
    const body = "x".repeat(20_000);
    const counted = await withDirect(LIMITED, async (client) => {
      await client.mailboxCreate(mailbox);
      await client.append(mailbox, rfc822({ subject: "one", body }));
      await client.append(mailbox, rfc822({ subject: "two", body }));
      return client.getQuota("INBOX");
    });
    const storage = counted ? counted.storage?.usage : undefined;
    const messages = counted ? counted.message?.usage : undefined;
    if (storage === undefined || messages === undefined) throw new Error("no quota read back");
    let data: Awaited<ReturnType<typeof quota>>;
    try {
      data = await quota(tlsConnection(LIMITED), mailbox);
    } finally {
      await withDirect(LIMITED, async (client) => {
        await client.mailboxDelete(mailbox);
        // the parent exists only as a name (\\Noselect) on some servers
        await client.mailboxDelete(mailbox.split("/")[0] ?? mailbox).catch(() => undefined);
      });
    }
    expect(data).toEqual({
      mailbox,
      roots: [
        {
          root: "User quota",
          storage: { usage: storage, limit: 1024 * 1024 },
          messages: { usage: messages, limit: 50 },
          other: {},
          percentUsed: Math.floor(Math.max(storage / (1024 * 1024), messages / 50) * 100),
        },
      ],
    });
    // the two messages appended here are counted
    expect(messages).toBeGreaterThanOrEqual(2);
    expect(storage).toBeGreaterThanOrEqual(40_000);
  });

  test("an account without a quota has no quota root", async () => {
    expect(await quota(tlsConnection(UNLIMITED), "INBOX")).toEqual({ mailbox: "INBOX", roots: [] });
  });

  test("a server without QUOTA is a clear error", async () => {
    const err = await failure(() => quota(legacyConnection(UNLIMITED), "INBOX"));
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox]).toEqual(["MISSING_EXTENSION", "INBOX"]);
    expect(err.message).toMatch(/does not support quotas \(it announces no QUOTA extension\)/);
  });

  test("a mailbox that does not exist is an error naming it", async () => {
    const mailbox = uniqueName("NoSuch");
    const err = await failure(() => quota(tlsConnection(LIMITED), mailbox));
    expect([err.code, err.mailbox]).toEqual(["MAILBOX_NOT_FOUND", mailbox]);
  });
});
