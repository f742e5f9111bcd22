import { ImapError } from "../src/errors";
import { failure, harness, legacyConnection, tlsConnection, uniqueName, withDirect, rfc822 } from "./helpers";

const USER = "test02";
const SPECIAL = ["Archive", "Drafts", "Junk", "Sent", "Trash"];

describe("listMailboxes (action)", () => {
  test("lists every mailbox with the documented shape, INBOX first", async () => {
    const nested = `${uniqueName("Projekte")}/Grüße & 日本語`;
    await withDirect(USER, (client) => client.mailboxCreate(nested));
    const { data } = (await harness.action("listMailboxes", { connection: tlsConnection(USER) })) as { data: Record<string, unknown>[] };
    expect(data[0]).toEqual({
      path: "INBOX",
      pathAsListed: "INBOX",
      flags: expect.any(Array),
      delimiter: "/",
      listed: true,
      specialUse: "\\Inbox",
      parentPath: "",
      parent: [],
      name: "INBOX",
      subscribed: true,
    });
    const paths = data.map((entry) => entry.path as string);
    expect(paths).toEqual(["INBOX", ...paths.slice(1).sort()]);
    const sent = data.find((entry) => entry.path === "Sent");
    expect(sent).toMatchObject({ specialUse: "\\Sent", subscribed: true, flags: expect.arrayContaining(["\\Sent"]) });
    const child = data.find((entry) => entry.path === nested);
    expect(child).toMatchObject({ name: "Grüße & 日本語", parentPath: nested.split("/")[0], parent: [nested.split("/")[0]], delimiter: "/" });
    expect(typeof child?.subscribed).toBe("boolean");
    // survives JSON unchanged: no Set, no bigint
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    // the same paths as a separate client sees
    const direct = await withDirect(USER, (client) => client.list());
    expect(new Set(paths)).toEqual(new Set(direct.map((entry) => entry.path)));
  });

  test("subscribed is false (never missing) for an unsubscribed mailbox", async () => {
    const name = uniqueName("Unsubscribed");
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(name);
      await client.mailboxUnsubscribe(name);
    });
    const { data } = (await harness.action("listMailboxes", { connection: tlsConnection(USER) })) as { data: Record<string, unknown>[] };
    expect(data.find((entry) => entry.path === name)?.subscribed).toBe(false);
  });
});

describe("listMailboxes (data source)", () => {
  test("offers every selectable mailbox by full path, INBOX first, then sorted", async () => {
    const parent = uniqueName("Parent");
    await withDirect(USER, (client) => client.mailboxCreate(`${parent}/Child`));
    const { result } = (await harness.dataSource("listMailboxes", { connection: tlsConnection(USER) })) as unknown as {
      result: { key: string; label: string }[];
    };
    const keys = result.map((item) => item.key);
    expect(keys[0]).toBe("INBOX");
    expect(keys.slice(1)).toEqual([...keys.slice(1)].sort());
    expect(keys).toEqual(expect.arrayContaining([...SPECIAL, `${parent}/Child`]));
    expect(result.every((item) => item.key === item.label)).toBe(true);
    // A parent that exists only as a hierarchy level is not selectable and is not offered.
    const parentEntry = await withDirect(USER, async (client) => (await client.list()).find((entry) => entry.path === parent));
    const selectable = parentEntry !== undefined && ![...parentEntry.flags].some((f) => /^\\(noselect|nonexistent)$/i.test(f));
    expect(keys.includes(parent)).toBe(selectable);
  });
});

describe("getStatus", () => {
  test("counts messages and returns UIDVALIDITY and HIGHESTMODSEQ as strings", async () => {
    const mailbox = uniqueName("Status");
    const direct = await withDirect(USER, async (client) => {
      await client.mailboxCreate(mailbox);
      await client.append(mailbox, rfc822({ subject: "one" }), ["\\Seen"]);
      await client.append(mailbox, rfc822({ subject: "two" }));
      await client.append(mailbox, rfc822({ subject: "three" }));
      return client.status(mailbox, { uidValidity: true, highestModseq: true, uidNext: true });
    });
    if (!direct) throw new Error("status failed");
    const { data } = (await harness.action("getStatus", { connection: tlsConnection(USER), mailbox })) as { data: Record<string, unknown> };
    expect(data).toEqual({
      path: mailbox,
      messages: 3,
      recent: expect.any(Number),
      uidNext: direct.uidNext,
      uidValidity: String(direct.uidValidity),
      unseen: 2,
      highestModseq: String(direct.highestModseq),
    });
  });

  test("a non-ASCII mailbox name works", async () => {
    const mailbox = `${uniqueName("Projekte")}/Grüße & 日本語`;
    await withDirect(USER, (client) => client.mailboxCreate(mailbox));
    const { data } = (await harness.action("getStatus", { connection: tlsConnection(USER), mailbox })) as { data: Record<string, unknown> };
    expect(data).toMatchObject({ path: mailbox, messages: 0 });
  });

  test("a server without CONDSTORE gives no highestModseq", async () => {
    const { data } = (await harness.action("getStatus", { connection: legacyConnection(USER), mailbox: "INBOX" })) as { data: Record<string, unknown> };
    expect(Object.keys(data).sort()).toEqual(["messages", "path", "recent", "uidNext", "uidValidity", "unseen"]);
    expect(typeof data.uidValidity).toBe("string");
  });

  test("a missing mailbox is a clear error that names it", async () => {
    const err = await failure(() => harness.action("getStatus", { connection: tlsConnection(USER), mailbox: "No/Such Box" }));
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toBe('The mailbox "No/Such Box" does not exist. Check the path (the List Mailboxes action shows every path) or create it first.');
  });
});
