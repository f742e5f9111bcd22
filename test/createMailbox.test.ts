import { ImapError, InputError } from "../src/errors";
import {
  failure,
  harness,
  legacyConnection,
  server,
  tlsConnection,
  uniqueName,
  withDirect,
} from "./helpers";
import { rewriteProxy } from "./rewriteProxy";

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

describe("createMailbox", () => {
  test("creates and subscribes a mailbox inside a parent that does not exist yet", async () => {
    const path = `${uniqueName("Projects")}/2024`;
    const { data } = (await harness.action("createMailbox", {
      connection: tlsConnection(USER),
      path,
    })) as { data: unknown };
    expect(data).toEqual({ path, created: true, subscribed: true });
    expect((await mailboxes()).get(path)).toBe(true);
    expect(await messageCount(path)).toBe(0);
  });

  test("an existing mailbox is created: false, and gets subscribed", async () => {
    const path = uniqueName("Existing");
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(path);
      await client.mailboxUnsubscribe(path);
    });
    const { data } = (await harness.action("createMailbox", {
      connection: tlsConnection(USER),
      path,
    })) as { data: unknown };
    expect(data).toEqual({ path, created: false, subscribed: true });
    expect((await mailboxes()).get(path)).toBe(true);
  });

  test("an existing mailbox is created: false also on a server that refuses without ALREADYEXISTS", async () => {
    const path = uniqueName("Existing");
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(path);
      await client.mailboxUnsubscribe(path);
    });
    let stripped = 0;
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      {
        toClient: (line) => {
          if (!line.includes("[ALREADYEXISTS] ")) return line;
          stripped++;
          return line.replace("[ALREADYEXISTS] ", "");
        },
      },
    );
    try {
      const { data } = (await harness.action("createMailbox", {
        connection: legacyConnection(USER, { port: String(proxy.port) }),
        path,
      })) as { data: unknown };
      expect(data).toEqual({ path, created: false, subscribed: true });
    } finally {
      await proxy.close();
    }
    expect(stripped).toBe(1);
    expect((await mailboxes()).get(path)).toBe(true);
  });

  test("a name the server refuses is a clear error with the server's reason", async () => {
    const path = `${uniqueName("Bad")}//name`;
    const err = await failure(() =>
      harness.action("createMailbox", { connection: tlsConnection(USER), path }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("SERVER_REFUSED");
    expect(err.message).toMatch(
      /^The server refused to create the mailbox \(mailbox "Bad-[^"]+\/\/name"\)\. The server said: \[CANNOT\] Invalid mailbox name: Has adjacent hierarchy separators/,
    );
    expect(
      Array.from((await mailboxes()).keys()).filter((p) => p.startsWith(path.split("/")[0])),
    ).toEqual([]);
  });

  test("a non-ASCII name works", async () => {
    const path = `${uniqueName("Projekte")}/Grüße & 日本語`;
    const { data } = (await harness.action("createMailbox", {
      connection: legacyConnection(USER),
      path,
    })) as { data: unknown };
    expect(data).toEqual({ path, created: true, subscribed: true });
    expect((await mailboxes()).get(path)).toBe(true);
  });

  test.each([
    ["", "Path is empty: give a mailbox path such as INBOX."],
    ["   ", "Path is empty: give a mailbox path such as INBOX."],
    ["a\nb", 'Path "a\nb" contains control characters.'],
  ])("path %j fails before connecting", async (path, message) => {
    const err = await failure(() => harness.action("createMailbox", { connection: NOWHERE, path }));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(message);
  });
});
