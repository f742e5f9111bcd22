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

const USER = "test02";
const SPECIAL = ["Archive", "Drafts", "Junk", "Sent", "Trash"];

/** The entry with \Marked / \UnMarked left out: Dovecot adds them depending on what its index knows about new mail. */
function unmarked(entry: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return (
    entry && {
      ...entry,
      flags: (entry.flags as string[]).filter((flag) => !/^\\(un)?marked$/i.test(flag)),
    }
  );
}

describe("listMailboxes (action)", () => {
  test("lists every mailbox with the documented shape, INBOX first", async () => {
    const nested = `${uniqueName("Projekte")}/Grüße & 日本語`;
    await withDirect(USER, (client) => client.mailboxCreate(nested));
    const { data } = (await harness.action("listMailboxes", {
      connection: tlsConnection(USER),
    })) as { data: Record<string, unknown>[] };
    expect(unmarked(data[0])).toEqual({
      path: "INBOX",
      pathAsListed: "INBOX",
      // this user has no mailbox inside INBOX
      flags: ["\\HasNoChildren"],
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
    expect(unmarked(sent)).toEqual({
      path: "Sent",
      pathAsListed: "Sent",
      flags: ["\\HasNoChildren", "\\Sent"],
      delimiter: "/",
      listed: true,
      specialUse: "\\Sent",
      parentPath: "",
      parent: [],
      name: "Sent",
      subscribed: true,
    });
    const child = data.find((entry) => entry.path === nested);
    const parent = nested.split("/")[0];
    // created (and so subscribed) by the separate client above; path is Unicode, pathAsListed the
    // server's modified UTF-7 (RFC 3501 5.1.3: ü ß = &APwA3w-, & = &-, 日本語 = &ZeVnLIqe-)
    expect(unmarked(child)).toEqual({
      path: nested,
      pathAsListed: `${parent}/Gr&APwA3w-e &- &ZeVnLIqe-`,
      flags: ["\\HasNoChildren"],
      delimiter: "/",
      listed: true,
      parentPath: parent,
      parent: [parent],
      name: "Grüße & 日本語",
      subscribed: true,
    });
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
    const { data } = (await harness.action("listMailboxes", {
      connection: tlsConnection(USER),
    })) as { data: Record<string, unknown>[] };
    expect(data.find((entry) => entry.path === name)?.subscribed).toBe(false);
  });
});

describe("listMailboxes (data source)", () => {
  test("offers every selectable mailbox by full path, INBOX first, then sorted", async () => {
    const parent = uniqueName("Parent");
    await withDirect(USER, (client) => client.mailboxCreate(`${parent}/Child`));
    const { result } = (await harness.dataSource("listMailboxes", {
      connection: tlsConnection(USER),
    })) as unknown as {
      result: { key: string; label: string }[];
    };
    const keys = result.map((item) => item.key);
    expect(keys[0]).toBe("INBOX");
    expect(keys.slice(1)).toEqual([...keys.slice(1)].sort());
    expect(keys).toEqual(expect.arrayContaining([...SPECIAL, `${parent}/Child`]));
    expect(result.every((item) => item.key === item.label)).toBe(true);
    // Dovecot lists a parent that exists only as a hierarchy level as \Noselect: it is not offered.
    const parentEntry = await withDirect(USER, async (client) =>
      (await client.list()).find((entry) => entry.path === parent),
    );
    expect(unmarked(parentEntry && { flags: [...parentEntry.flags].sort() })).toEqual({
      flags: ["\\HasChildren", "\\NonExistent", "\\Noselect"],
    });
    expect(keys).not.toContain(parent);
    // every key is a mailbox a separate client can open
    const openable = await withDirect(USER, async (client) => {
      const results: boolean[] = [];
      for (const key of keys)
        results.push((await client.status(key, { messages: true })) !== false);
      return results;
    });
    expect(keys.filter((_key, i) => !openable[i])).toEqual([]);
  });
});

describe("getStatus", () => {
  test("a name that differs from an existing one only in Unicode normalisation names the existing one", async () => {
    const existing = `${uniqueName("Status")}/Grüße`.normalize("NFC");
    await withDirect(USER, (client) => client.mailboxCreate(existing));
    const typed = existing.normalize("NFD");
    expect(typed).not.toBe(existing);
    const err = await failure(() =>
      harness.action("getStatus", { connection: tlsConnection(USER), mailbox: typed }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox]).toEqual(["MAILBOX_NOT_FOUND", typed]);
    expect(err.message).toBe(
      `The mailbox "${typed}" does not exist, but "${existing}" does: the two names look alike and differ only in how their accented letters are encoded (Unicode normalisation). Use "${existing}" (copy it from the List Mailboxes action or the mailbox picker).`,
    );
  });

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
    const { data } = (await harness.action("getStatus", {
      connection: tlsConnection(USER),
      mailbox,
    })) as { data: Record<string, unknown> };
    expect(data).toEqual({
      path: mailbox,
      messages: 3,
      // no session has selected the mailbox yet, so the three are still \Recent (STATUS does not claim them)
      recent: 3,
      uidNext: direct.uidNext,
      uidValidity: String(direct.uidValidity),
      unseen: 2,
      highestModseq: String(direct.highestModseq),
    });
  });

  test("a non-ASCII mailbox name works", async () => {
    const mailbox = `${uniqueName("Projekte")}/Grüße & 日本語`;
    const direct = await withDirect(USER, async (client) => {
      await client.mailboxCreate(mailbox);
      await client.append(mailbox, rfc822({ subject: "Grüße" }));
      return client.status(mailbox, { uidValidity: true, highestModseq: true, uidNext: true });
    });
    if (!direct) throw new Error("status failed");
    const { data } = (await harness.action("getStatus", {
      connection: tlsConnection(USER),
      mailbox,
    })) as { data: Record<string, unknown> };
    expect(data).toEqual({
      path: mailbox,
      messages: 1,
      recent: 1,
      uidNext: direct.uidNext,
      uidValidity: String(direct.uidValidity),
      unseen: 1,
      highestModseq: String(direct.highestModseq),
    });
  });

  test("a server without CONDSTORE gives no highestModseq", async () => {
    const mailbox = uniqueName("Legacy");
    const direct = await withDirect(USER, async (client) => {
      await client.mailboxCreate(mailbox);
      await client.append(mailbox, rfc822({ subject: "one" }), ["\\Seen"]);
      await client.append(mailbox, rfc822({ subject: "two" }));
      return client.status(mailbox, { uidValidity: true, uidNext: true });
    });
    if (!direct) throw new Error("status failed");
    // the legacy instance shares the mail store: the same mailbox, without CONDSTORE
    const { data } = (await harness.action("getStatus", {
      connection: legacyConnection(USER),
      mailbox,
    })) as { data: Record<string, unknown> };
    expect(data).toEqual({
      path: mailbox,
      messages: 2,
      recent: 2,
      uidNext: direct.uidNext,
      uidValidity: String(direct.uidValidity),
      unseen: 1,
    });
  });

  test("a missing mailbox is a clear error that names it", async () => {
    const err = await failure(() =>
      harness.action("getStatus", { connection: tlsConnection(USER), mailbox: "No/Such Box" }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toBe(
      'The mailbox "No/Such Box" does not exist. Check the path (the List Mailboxes action shows every path) or create it first.',
    );
  });
});

describe("listMailboxes counts and subscriptions", () => {
  const OWNER = "test31";

  function recorder() {
    const lines: string[] = [];
    const quiet = () => undefined;
    const logger = {
      debug: (...args: unknown[]) => {
        lines.push(args.join(" "));
      },
      info: quiet,
      warn: quiet,
      error: quiet,
      metric: quiet,
      trace: quiet,
      log: quiet,
    };
    const commands = () =>
      lines
        .filter((line) => line.startsWith("imap debug: "))
        .map(
          (line) => JSON.parse(line.slice("imap debug: ".length)) as { src?: string; msg?: string },
        )
        .filter((entry) => entry.src === "c" && typeof entry.msg === "string")
        .map((entry) => (entry.msg ?? "").replace(/^\S+ /, ""));
    return { context: { logger, globalDebug: true }, commands };
  }

  type Listed = { path: string; subscribed: boolean; counts?: Record<string, unknown> | null };

  test.each([
    ["main (LIST-STATUS)", "main"],
    ["legacy (a STATUS per mailbox)", "legacy"],
  ])(
    "includeCounts gives each mailbox's counts as STATUS reads them, on %s",
    async (_name, kind) => {
      const path = uniqueName("Counted");
      const direct = await withDirect(OWNER, async (client) => {
        await client.mailboxCreate(path);
        await client.append(path, rfc822({ subject: "read" }), ["\\Seen"]);
        await client.append(path, rfc822({ subject: "unread" }));
        return client.status(path, {
          messages: true,
          unseen: true,
          uidNext: true,
          uidValidity: true,
        });
      });
      if (!direct) throw new Error("status failed");
      const connection = kind === "main" ? tlsConnection(OWNER) : legacyConnection(OWNER);
      const { context, commands } = recorder();
      const { data } = (await harness.action(
        "listMailboxes",
        { connection, includeCounts: "true" },
        context,
      )) as { data: Listed[] };
      expect(data.find((entry) => entry.path === path)?.counts).toEqual({
        messages: 2,
        unseen: 1,
        uidNext: direct.uidNext,
        uidValidity: String(direct.uidValidity),
      });
      expect(data.every((entry) => entry.counts !== undefined)).toBe(true);
      const statuses = commands().filter((command) => command.startsWith("STATUS "));
      if (kind === "main") {
        expect(statuses).toEqual([]);
        expect(
          commands().filter((command) => /^LIST .*RETURN \(.*STATUS/.test(command)),
        ).toHaveLength(1);
      } else {
        expect(statuses).toHaveLength(data.filter((entry) => entry.counts !== null).length);
      }
    },
  );

  test("without includeCounts the entries have no counts key (the shape released before)", async () => {
    const { data } = (await harness.action("listMailboxes", {
      connection: tlsConnection(OWNER),
    })) as { data: Listed[] };
    expect(data.filter((entry) => "counts" in entry)).toEqual([]);
  });

  test("subscribeMailbox and unsubscribeMailbox change the subscription; subscribedOnly lists the subscribed", async () => {
    const path = uniqueName("Subscribed");
    await withDirect(OWNER, async (client) => {
      await client.mailboxCreate(path);
      await client.mailboxUnsubscribe(path);
    });
    const subscribedNow = async () =>
      withDirect(OWNER, async (client) =>
        (await client.list()).some((entry) => entry.path === path && entry.subscribed === true),
      );
    expect(await subscribedNow()).toBe(false);
    const listSubscribed = async () =>
      (
        (await harness.action("listMailboxes", {
          connection: tlsConnection(OWNER),
          subscribedOnly: "true",
        })) as { data: Listed[] }
      ).data;
    expect((await listSubscribed()).some((entry) => entry.path === path)).toBe(false);
    expect((await listSubscribed()).every((entry) => entry.subscribed)).toBe(true);

    const on = (await harness.action("subscribeMailbox", {
      connection: tlsConnection(OWNER),
      path,
    })) as { data: unknown };
    expect(on.data).toEqual({ path, subscribed: true });
    expect(await subscribedNow()).toBe(true);
    expect((await listSubscribed()).some((entry) => entry.path === path)).toBe(true);

    const off = (await harness.action("unsubscribeMailbox", {
      connection: tlsConnection(OWNER),
      path,
    })) as { data: unknown };
    expect(off.data).toEqual({ path, subscribed: false });
    expect(await subscribedNow()).toBe(false);
  });

  test("subscribing to a mailbox that does not exist is an error naming it; nothing is subscribed", async () => {
    const path = uniqueName("Missing");
    const err = await failure(() =>
      harness.action("subscribeMailbox", { connection: tlsConnection(OWNER), path }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect([err.code, err.mailbox]).toEqual(["MAILBOX_NOT_FOUND", path]);
    const lsub = await withDirect(OWNER, async (client) =>
      (await client.list()).filter((entry) => entry.path === path),
    );
    expect(lsub).toEqual([]);
  });
});
