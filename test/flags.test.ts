import { ImapError, InputError } from "../src/errors";
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

const USER = "test03";
/** Nothing listens on port 1: an action that tried to connect would fail with a connection error instead. */
const NOWHERE = tlsConnection(USER, { port: "1" });

type FlagsOutput = { mailbox: string; messages: { uid: number; flags: string[] }[] };

async function run(
  key: "addFlags" | "removeFlags" | "setFlags",
  params: Record<string, unknown>,
): Promise<FlagsOutput> {
  const { data } = (await harness.action(key, { connection: tlsConnection(USER), ...params })) as {
    data: FlagsOutput;
  };
  return {
    ...data,
    messages: data.messages.map((m) => ({ uid: m.uid, flags: [...m.flags].sort() })),
  };
}

describe("addFlags", () => {
  test("adds flags to a list of UIDs and returns the flags each message has afterwards", async () => {
    const { path, uids } = await seedMailbox(USER, {
      count: 4,
      flags: (i) => (i === 0 ? ["\\Seen"] : []),
    });
    const out = await run("addFlags", {
      mailbox: path,
      uids: `${uids[0]},${uids[2]}`,
      flags: ["\\Flagged", "$Label1"],
    });
    expect(out).toEqual({
      mailbox: path,
      messages: [
        { uid: uids[0], flags: ["$Label1", "\\Flagged", "\\Seen"] },
        { uid: uids[2], flags: ["$Label1", "\\Flagged"] },
      ],
    });
    expect(await flagsByUid(USER, path)).toEqual({
      [uids[0]]: ["$Label1", "\\Flagged", "\\Seen"],
      [uids[1]]: [],
      [uids[2]]: ["$Label1", "\\Flagged"],
      [uids[3]]: [],
    });
  });

  test("accepts flags as comma-separated text and a range, and is idempotent", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 3 });
    const params = { mailbox: path, uids: `${uids[1]}:${uids[2]}`, flags: "\\seen, $Done" };
    const first = await run("addFlags", params);
    const second = await run("addFlags", params);
    expect(second).toEqual(first);
    expect(first.messages).toEqual([
      { uid: uids[1], flags: ["$Done", "\\Seen"] },
      { uid: uids[2], flags: ["$Done", "\\Seen"] },
    ]);
    expect((await flagsByUid(USER, path))[uids[0]]).toEqual([]);
  });

  test("a UID that names no message is an error naming it, and nothing changes", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 2 });
    const missing = uids[1] + 50;
    const err = await failure(() =>
      run("addFlags", {
        mailbox: path,
        uids: `${uids[0]},${missing},${missing + 1}`,
        flags: ["\\Flagged"],
      }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
    expect(err.message).toBe(
      `Could not add flags: the mailbox "${path}" has no message with UID ${missing}, ${missing + 1}, so nothing was changed. Check the UIDs: they come from Search / List Mailbox Messages or the trigger, and a message that was moved or deleted is gone for good.`,
    );
    expect(await flagsByUid(USER, path)).toEqual({ [uids[0]]: [], [uids[1]]: [] });
  });

  test("an open range beyond the last UID matches nothing (the server would read it as the last message)", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 2 });
    const err = await failure(() =>
      run("addFlags", { mailbox: path, uids: `${uids[1] + 10}:*`, flags: ["\\Flagged"] }),
    );
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
    expect(err.message).toBe(
      `Could not add flags: no message in the mailbox "${path}" matches UIDs ${uids[1] + 10}:*, so nothing was changed.`,
    );
    expect(await flagsByUid(USER, path)).toEqual({ [uids[0]]: [], [uids[1]]: [] });
  });

  test("an empty mailbox matches nothing", async () => {
    const path = uniqueName("Empty");
    await withDirect(USER, (client) => client.mailboxCreate(path));
    const err = await failure(() =>
      run("addFlags", { mailbox: path, uids: "1:*", flags: ["\\Seen"] }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
    expect(err.message).toBe(
      `Could not add flags: no message in the mailbox "${path}" matches UIDs 1:*, so nothing was changed.`,
    );
  });

  test("UIDs stay right while another client expunges messages between two invocations", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 5 });
    await run("addFlags", { mailbox: path, uids: String(uids[3]), flags: ["$First"] });
    await withDirectMailbox(USER, path, { readOnly: false }, async (client) => {
      await client.messageDelete(`${uids[0]}:${uids[1]}`, { uid: true });
    });
    // Sequence number 3 is now UID uids[4]: a sequence-based STORE would flag the wrong message.
    const out = await run("addFlags", { mailbox: path, uids: String(uids[2]), flags: ["$Second"] });
    expect(out.messages).toEqual([{ uid: uids[2], flags: ["$Second"] }]);
    expect(await flagsByUid(USER, path)).toEqual({
      [uids[2]]: ["$Second"],
      [uids[3]]: ["$First"],
      [uids[4]]: [],
    });
    const err = await failure(() =>
      run("addFlags", { mailbox: path, uids: String(uids[0]), flags: ["$Third"] }),
    );
    expect(err.code).toBe("MESSAGE_NOT_FOUND");
  });

  test("a server that answers a missing UID with another message changes nothing", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 2 });
    const missing = uids[1] + 100;
    // The proxy turns UID FETCH <missing> into UID FETCH <first>, as some servers answer.
    let rewritten = 0;
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      {
        toServer: (line) => {
          if (!line.includes(`UID FETCH ${missing} `)) return line;
          rewritten += 1;
          return line.replace(`UID FETCH ${missing} `, `UID FETCH ${uids[0]} `);
        },
      },
    );
    try {
      const err = await failure(() =>
        harness.action("addFlags", {
          connection: legacyConnection(USER, { port: String(proxy.port) }),
          mailbox: path,
          uids: String(missing),
          flags: ["\\Flagged"],
        }),
      );
      expect(err.code).toBe("MESSAGE_NOT_FOUND");
      expect(rewritten).toBe(1);
    } finally {
      await proxy.close();
    }
    expect(await flagsByUid(USER, path)).toEqual({ [uids[0]]: [], [uids[1]]: [] });
  });

  test("a keyword the mailbox cannot keep is an error, not silently dropped", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 1 });
    // A server whose PERMANENTFLAGS lack \* keeps no keywords.
    const proxy = await rewriteProxy(
      { host: server.host, port: server.legacyPort },
      { toClient: (line) => line.replace(/ \\\*\)\]/, ")]") },
    );
    try {
      const err = await failure(() =>
        harness.action("addFlags", {
          connection: legacyConnection(USER, { port: String(proxy.port) }),
          mailbox: path,
          uids: String(uids[0]),
          flags: ["\\Seen", "$Label1"],
        }),
      );
      expect(err.code).toBe("SERVER_REFUSED");
      expect(err.message).toBe(
        `Could not add flags: the mailbox "${path}" cannot keep the flag $Label1 (it keeps \\Answered \\Flagged \\Deleted \\Seen \\Draft). Nothing was changed.`,
      );
    } finally {
      await proxy.close();
    }
    expect(await flagsByUid(USER, path)).toEqual({ [uids[0]]: [] });
  });

  test("works on a server without CONDSTORE and UIDPLUS, and on a non-ASCII mailbox", async () => {
    const path = `${uniqueName("Projekte")}/Grüße & 日本語`;
    const uid = await withDirect(USER, async (client) => {
      await client.mailboxCreate(path);
      const appended = await client.append(path, rfc822({ subject: "Grüße" }));
      return appended ? appended.uid : undefined;
    });
    const { data } = (await harness.action("addFlags", {
      connection: legacyConnection(USER),
      mailbox: path,
      uids: String(uid),
      flags: ["\\Answered"],
    })) as {
      data: FlagsOutput;
    };
    expect(data).toEqual({ mailbox: path, messages: [{ uid, flags: ["\\Answered"] }] });
    expect(await flagsByUid(USER, path)).toEqual({ [uid as number]: ["\\Answered"] });
  });

  test("a missing mailbox is a clear error", async () => {
    const err = await failure(() =>
      run("addFlags", { mailbox: "No/Such Mailbox", uids: "1", flags: ["\\Seen"] }),
    );
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toMatch(
      /^The mailbox "No\/Such Mailbox" does not exist\. Check the path \(the List Mailboxes action shows every path\) or create it first\./,
    );
  });
});

describe("removeFlags", () => {
  test("removes flags from an open range and leaves the other messages alone", async () => {
    const { path, uids } = await seedMailbox(USER, { count: 3, flags: () => ["\\Seen", "$Keep"] });
    const out = await run("removeFlags", {
      mailbox: path,
      uids: `${uids[1]}:*`,
      flags: ["\\Seen"],
    });
    expect(out).toEqual({
      mailbox: path,
      messages: [
        { uid: uids[1], flags: ["$Keep"] },
        { uid: uids[2], flags: ["$Keep"] },
      ],
    });
    expect(await flagsByUid(USER, path)).toEqual({
      [uids[0]]: ["$Keep", "\\Seen"],
      [uids[1]]: ["$Keep"],
      [uids[2]]: ["$Keep"],
    });
  });
});

describe("setFlags", () => {
  test("replaces the flags of the named messages only", async () => {
    const { path, uids } = await seedMailbox(USER, {
      count: 3,
      flags: () => ["\\Seen", "\\Answered"],
    });
    const out = await run("setFlags", {
      mailbox: path,
      uids: `${uids[0]},${uids[2]}`,
      flags: ["$Done", "\\Flagged"],
    });
    expect(out.messages).toEqual([
      { uid: uids[0], flags: ["$Done", "\\Flagged"] },
      { uid: uids[2], flags: ["$Done", "\\Flagged"] },
    ]);
    expect(await flagsByUid(USER, path)).toEqual({
      [uids[0]]: ["$Done", "\\Flagged"],
      [uids[1]]: ["\\Answered", "\\Seen"],
      [uids[2]]: ["$Done", "\\Flagged"],
    });
  });
});

describe("flag actions: bad input fails before connecting", () => {
  const cases: [string, unknown, string][] = [
    [
      "uids",
      "abc",
      'UIDs "abc" is not a UID set (at "abc"). Use a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).',
    ],
    [
      "uids",
      "1;2",
      'UIDs "1;2" is not a UID set (at "1;2"). Use a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).',
    ],
    [
      "uids",
      "0",
      'UIDs "0" is not a UID set (at "0": UIDs run from 1 to 4294967295). Use a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).',
    ],
    [
      "uids",
      "",
      "UIDs is empty: give a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).",
    ],
    [
      "flags",
      ["has space"],
      'Flags: "has space" is not a valid flag: keywords are ASCII without spaces, parentheses, braces, quotes, backslashes, %, *, ] or control characters (e.g. $Label1).',
    ],
    [
      "flags",
      ["(x)"],
      'Flags: "(x)" is not a valid flag: keywords are ASCII without spaces, parentheses, braces, quotes, backslashes, %, *, ] or control characters (e.g. $Label1).',
    ],
    [
      "flags",
      ['"q"'],
      'Flags: ""q"" is not a valid flag: keywords are ASCII without spaces, parentheses, braces, quotes, backslashes, %, *, ] or control characters (e.g. $Label1).',
    ],
    [
      "flags",
      ["\\Recent"],
      "Flags: \\Recent is set by the server alone and cannot be added, removed or set.",
    ],
    ["flags", "", "Flags is empty: give at least one flag, e.g. \\Seen."],
  ];
  test.each(cases)("%s %j", async (key, value, message) => {
    for (const action of ["addFlags", "removeFlags", "setFlags"]) {
      const params = {
        connection: NOWHERE,
        mailbox: "INBOX",
        uids: "1",
        flags: ["\\Seen"],
        [key]: value,
      };
      const err = await failure(() => harness.action(action, params));
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toBe(message);
    }
  });
});
