import type { ActionLogger } from "@prismatic-io/spectral";
import { ImapConnectionError, InputError } from "../src/errors";
import type { Fields } from "./helpers";
import {
  failure,
  flagsByUid,
  harness,
  rfc822,
  seedMailbox,
  tlsConnection,
  uniqueName,
  withDirect,
} from "./helpers";

type Connection = ReturnType<typeof tlsConnection>;
type Item = Record<string, unknown> & { uid: number; mailbox: string; uidValidity: string };

interface Page {
  items: Item[];
  paginationState: Record<string, unknown> | null;
  resultType: string;
}

interface Run {
  /** What each execution receives as `body.data`: one item at batch size 1, else a list. */
  executions: (Item | Item[])[];
  pages: Page[];
  warnings: string[];
}

const quiet = (warnings: string[], commands: string[] = []): ActionLogger => ({
  metric: () => undefined,
  trace: () => undefined,
  debug: (...args) => {
    const line = args.map(String).join(" ");
    if (!line.startsWith("imap debug: ")) return;
    const entry = JSON.parse(line.slice("imap debug: ".length)) as { src?: string; msg?: string };
    if (entry.src !== "c" || typeof entry.msg !== "string" || entry.msg.startsWith("(")) return;
    const [, name, next] = entry.msg.split(" ");
    commands.push(name === "UID" ? `UID ${next}` : (name ?? ""));
  },
  info: () => undefined,
  log: () => undefined,
  warn: (...args) => warnings.push(args.map(String).join(" ")),
  error: () => undefined,
});

/** One page: the wrapped perform, called as the platform calls it, with the previous page's cursor. */
async function page(
  connection: Connection,
  params: Fields,
  instanceState: Record<string, unknown>,
  paginationState: Record<string, unknown> | null,
  warnings: string[],
): Promise<Page> {
  const result = (await harness.trigger(
    "newEmailsBatched",
    // the harness types the payload without a cursor; the platform sets it on every later page
    (paginationState ? { paginationState } : {}) as Parameters<typeof harness.trigger>[1],
    { connection, ...params },
    { instanceState, logger: quiet(warnings) },
  )) as unknown as {
    payload: { body: { data: Item[] }; paginationState: Record<string, unknown> | null };
    resultType: string;
  };
  return {
    items: result.payload.body.data,
    paginationState: result.payload.paginationState,
    resultType: result.resultType,
  };
}

/**
 * One run as the platform drives a batched trigger: the first page without a cursor, then the
 * next page with the returned cursor until it is null; each page's items split into executions
 * of `batchSize`. `connectionFor(n)` picks the connection of page n (1-based), to fail one page.
 */
async function run(
  params: Fields,
  instanceState: Record<string, unknown>,
  options: { batchSize?: number; connectionFor: (pageNumber: number) => Connection },
  pages: Page[] = [],
  executions: (Item | Item[])[] = [],
): Promise<Run> {
  const batchSize = options.batchSize ?? 1;
  const warnings: string[] = [];
  let cursor: Record<string, unknown> | null = null;
  do {
    const current = await page(
      options.connectionFor(pages.length + 1),
      params,
      instanceState,
      cursor,
      warnings,
    );
    pages.push(current);
    for (let i = 0; i < current.items.length; i += batchSize) {
      const batch = current.items.slice(i, i + batchSize);
      const first = batch[0];
      if (batchSize === 1 && first) executions.push(first);
      else executions.push(batch);
    }
    cursor = current.paginationState;
  } while (cursor !== null);
  return { executions, pages, warnings };
}

function savedState(instanceState: Record<string, unknown>): Record<string, unknown> | undefined {
  return (instanceState.__prismaticInternal as { polling?: Record<string, unknown> } | undefined)
    ?.polling;
}

/** The cursors of the saved state: the time of the poll and the delivered Message-IDs left out. */
function watermark(instanceState: Record<string, unknown>): unknown {
  const saved = savedState(instanceState);
  const strip = (entry: Record<string, unknown>) => {
    const { lastPollAt: _time, deliveredIds: _ids, ...rest } = entry;
    return rest;
  };
  if (!saved) return saved;
  return Array.isArray(saved.cursors)
    ? { cursors: (saved.cursors as Record<string, unknown>[]).map(strip) }
    : strip(saved);
}

async function append(user: string, mailbox: string, subjects: string[]): Promise<number[]> {
  return withDirect(user, async (client) => {
    const out: number[] = [];
    for (const subject of subjects) {
      const result = await client.append(mailbox, rfc822({ subject }), []);
      if (!result || !result.uid) throw new Error(`append to ${mailbox} failed`);
      out.push(result.uid);
    }
    return out;
  });
}

async function uidValidityOf(user: string, mailbox: string): Promise<string> {
  return withDirect(user, async (client) => {
    const status = await client.status(mailbox, { uidValidity: true });
    if (!status || status.uidValidity === undefined) throw new Error(`status of ${mailbox} failed`);
    return status.uidValidity.toString();
  });
}

const itemUids = (executions: (Item | Item[])[]) =>
  executions
    .flatMap((execution) => (Array.isArray(execution) ? execution : [execution]))
    .map((item) => item.uid);

describe("newEmailsBatched: one execution per message", () => {
  const USER = "test34";

  test("first run records the mailbox; then one execution per new message, each naming its mailbox and UIDVALIDITY", async () => {
    const { path, uids: old } = await seedMailbox(USER, { prefix: "PerMessage", count: 2 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    const uidValidity = await uidValidityOf(USER, path);

    const first = await run({ mailbox: path }, state, { connectionFor: () => connection });
    expect(first.executions).toEqual([]);
    expect(first.pages.map((p) => [p.items.length, p.paginationState, p.resultType])).toEqual([
      [0, null, "polled_no_changes"],
    ]);
    expect(watermark(state)).toEqual({ mailbox: path, uidValidity, lastUid: old[1] });

    const added = await append(USER, path, ["invoice 1", "invoice 2", "invoice 3"]);
    const second = await run({ mailbox: path }, state, { connectionFor: () => connection });
    expect(second.pages).toHaveLength(1);
    expect(second.pages[0]?.resultType).toBe("completed");
    expect(second.executions).toHaveLength(3);
    for (const [i, execution] of second.executions.entries()) {
      expect(Array.isArray(execution)).toBe(false);
      expect(execution).toMatchObject({
        uid: added[i],
        mailbox: path,
        uidValidity,
        flags: [],
        envelope: expect.objectContaining({ subject: `invoice ${i + 1}` }),
      });
    }
    expect(watermark(state)).toEqual({ mailbox: path, uidValidity, lastUid: added[2] });
    // read-only by default: nothing got \Seen
    expect(await flagsByUid(USER, path)).toEqual(
      Object.fromEntries([...old, ...added].map((uid) => [uid, []])),
    );

    const third = await run({ mailbox: path }, state, { connectionFor: () => connection });
    expect(third.executions).toEqual([]);
    expect(third.pages[0]?.resultType).toBe("polled_no_changes");
  });

  test("with batch size 2, five new messages make executions of 2, 2 and 1; markAsRead marks exactly those", async () => {
    const { path, uids: old } = await seedMailbox(USER, { prefix: "Batches", count: 1 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    const params = { mailbox: path, markAsRead: "true" };
    await run(params, state, { connectionFor: () => connection });
    const added = await append(
      USER,
      path,
      Array.from({ length: 5 }, (_, i) => `batch ${i + 1}`),
    );

    const result = await run(params, state, { batchSize: 2, connectionFor: () => connection });
    expect(
      result.executions.map((execution) =>
        Array.isArray(execution) ? execution.map((item) => item.uid) : execution.uid,
      ),
    ).toEqual([added.slice(0, 2), added.slice(2, 4), added.slice(4)]);
    const flags = await flagsByUid(USER, path);
    expect(flags).toEqual({
      ...Object.fromEntries(old.map((uid) => [uid, []])),
      ...Object.fromEntries(added.map((uid) => [uid, ["\\Seen"]])),
    });
  });
});

describe("newEmailsBatched: backlogs and failures", () => {
  const USER = "test35";

  test("a backlog of 1,200 is drained in one run, page by page, with no gap and no repeat", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Backlog", count: 0 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    const params = { mailbox: path, pageSize: "500" };
    await run(params, state, { connectionFor: () => connection });
    const uidValidity = await uidValidityOf(USER, path);
    const added = await append(
      USER,
      path,
      Array.from({ length: 1200 }, (_, i) => `backlog ${i + 1}`),
    );

    const result = await run(params, state, { connectionFor: () => connection });
    expect(result.pages.map((p) => p.items.length)).toEqual([500, 500, 200]);
    expect(result.pages.map((p) => p.resultType)).toEqual(["completed", "completed", "completed"]);
    expect(result.pages.map((p) => p.paginationState)).toEqual([
      { cursors: [{ mailbox: path, uidValidity, afterUid: added[499] }] },
      { cursors: [{ mailbox: path, uidValidity, afterUid: added[999] }] },
      null,
    ]);
    expect(itemUids(result.executions)).toEqual(added);
    expect(new Set(itemUids(result.executions)).size).toBe(1200);
    expect(watermark(state)).toEqual(expect.objectContaining({ lastUid: added[1199] }));
  }, 120000);

  test("a failure on page 3 leaves pages 1 and 2 delivered; the next run continues with page 3", async () => {
    const { path } = await seedMailbox(USER, { prefix: "PageFails", count: 0 });
    const state: Record<string, unknown> = {};
    const good = tlsConnection(USER);
    const wrong = tlsConnection(USER, { password: "wrong-password" });
    const params = { mailbox: path, pageSize: "10" };
    await run(params, state, { connectionFor: () => good });
    const added = await append(
      USER,
      path,
      Array.from({ length: 35 }, (_, i) => `page ${i + 1}`),
    );

    const pages: Page[] = [];
    const executions: (Item | Item[])[] = [];
    const err = await failure(() =>
      run(params, state, { connectionFor: (n) => (n === 3 ? wrong : good) }, pages, executions),
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("AUTHENTICATION_FAILED");
    expect(pages.map((p) => p.items.length)).toEqual([10, 10]);
    expect(itemUids(executions)).toEqual(added.slice(0, 20));
    expect(watermark(state)).toEqual(expect.objectContaining({ lastUid: added[19] }));

    const next = await run(params, state, { connectionFor: () => good });
    expect(next.pages.map((p) => p.items.length)).toEqual([10, 5]);
    expect(itemUids(next.executions)).toEqual(added.slice(20));
  });

  test("a page cursor behind the saved watermark never delivers a message twice", async () => {
    const { path } = await seedMailbox(USER, { prefix: "StaleCursor", count: 0 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    const params = { mailbox: path, pageSize: "2" };
    await run(params, state, { connectionFor: () => connection });
    const uidValidity = await uidValidityOf(USER, path);
    const added = await append(USER, path, ["a", "b", "c", "d"]);

    const warnings: string[] = [];
    const first = await page(connection, params, state, null, warnings);
    expect(first.items.map((item) => item.uid)).toEqual(added.slice(0, 2));
    // a cursor from an earlier page, handed back again: the watermark wins
    const stale = { cursors: [{ mailbox: path, uidValidity, afterUid: 0 }] };
    const second = await page(connection, params, state, stale, warnings);
    expect(second.items.map((item) => item.uid)).toEqual(added.slice(2, 4));
    expect(second.paginationState).toBeNull();
  });
});

describe("newEmailsBatched and newEmails: a cursor saved by 0.1.0", () => {
  const USER = "test34";

  for (const key of ["newEmailsBatched", "newEmails"] as const) {
    test(`${key} continues a 0.1.0 state after its lastUid: no redelivery, no gap`, async () => {
      const { path, uids } = await seedMailbox(USER, { prefix: `Upgrade${key}`, count: 3 });
      const uidValidity = await uidValidityOf(USER, path);
      // exactly what 0.1.0 wrote under the polling state
      const state: Record<string, unknown> = {
        __prismaticInternal: { polling: { mailbox: path, uidValidity, lastUid: uids[1] } },
      };
      const added = await append(USER, path, [uniqueName("after upgrade")]);
      const connection = tlsConnection(USER);

      let delivered: number[];
      if (key === "newEmailsBatched") {
        const result = await run({ mailbox: path }, state, { connectionFor: () => connection });
        expect(result.warnings).toEqual([]);
        delivered = itemUids(result.executions);
      } else {
        const result = (await harness.trigger(
          "newEmails",
          {},
          { connection, mailbox: path },
          { instanceState: state, logger: quiet([]) },
        )) as unknown as { payload: { body: { data: { messages: { uid: number }[] } } } };
        delivered = result.payload.body.data.messages.map((message) => message.uid);
      }
      expect(delivered).toEqual([uids[2], ...added]);
      expect(watermark(state)).toEqual({ mailbox: path, uidValidity, lastUid: added[0] });
    });
  }
});

const MAILBOX_COMMANDS = new Set([
  "STATUS",
  "SELECT",
  "EXAMINE",
  "UID FETCH",
  "UID SEARCH",
  "UID STORE",
]);

/** One newEmails poll, with the mailbox commands it sent. */
async function pollOnce(
  connection: Connection,
  params: Fields,
  instanceState: Record<string, unknown>,
): Promise<{ uids: number[]; commands: string[] }> {
  const commands: string[] = [];
  // globalDebug makes the session log imapflow's commands, which `quiet` collects
  const context = { instanceState, logger: quiet([], commands), globalDebug: true };
  const result = (await harness.trigger(
    "newEmails",
    {},
    { connection, ...params },
    context,
  )) as unknown as { payload: { body: { data: { messages: { uid: number }[] } } } };
  return {
    uids: result.payload.body.data.messages.map((message) => message.uid),
    commands: commands.filter((name) => MAILBOX_COMMANDS.has(name)),
  };
}

function withAttachment(subject: string): string {
  return [
    "From: Invoices <invoices@supplier.example>",
    "To: Bob Example <bob@example.com>",
    `Subject: ${subject}`,
    "Date: Tue, 24 Nov 2026 10:00:00 +0000",
    `Message-ID: <${uniqueName("att")}@example.com>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "See attached.",
    "--b1",
    'Content-Type: application/pdf; name="invoice.pdf"',
    "Content-Disposition: attachment; filename=invoice.pdf",
    "Content-Transfer-Encoding: base64",
    "",
    "JVBERi0xLjQK",
    "--b1--",
    "",
  ].join("\r\n");
}

describe("both triggers: filters evaluated by the server on the new messages", () => {
  const USER = "test36";

  test("newEmails: From and Subject deliver only the matching mail of a poll; the cursor passes the rest; one SEARCH, no FETCH of everything new", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Filtered", count: 1 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    const params = { mailbox: path, from: "@supplier.example", subject: "invoice" };
    await pollOnce(connection, params, state);
    const uidValidity = await uidValidityOf(USER, path);
    const added = await withDirect(USER, async (client) => {
      const out: number[] = [];
      for (const [from, subject] of [
        ["Invoices <invoices@supplier.example>", "Invoice 1"],
        ["Alice Example <alice@example.com>", "Invoice from Alice"],
        ["Invoices <invoices@supplier.example>", "Newsletter"],
        ["Invoices <invoices@supplier.example>", "Your INVOICE 2"],
        ["Alice Example <alice@example.com>", "Lunch"],
      ] as const) {
        const result = await client.append(path, rfc822({ from, subject }), []);
        if (!result || !result.uid) throw new Error("append failed");
        out.push(result.uid);
      }
      return out;
    });

    const poll = await pollOnce(connection, params, state);
    expect(poll.uids).toEqual([added[0], added[3]]);
    expect(poll.commands).toEqual(["STATUS", "EXAMINE", "UID SEARCH", "UID FETCH"]);
    expect(watermark(state)).toEqual({ mailbox: path, uidValidity, lastUid: added[4] });

    // only non-matching mail: nothing delivered, and the cursor still moves past it
    const later = await append(USER, path, ["Lunch again"]);
    const next = await pollOnce(connection, params, state);
    expect(next.uids).toEqual([]);
    expect(next.commands).toEqual(["STATUS", "EXAMINE", "UID SEARCH"]);
    expect(watermark(state)).toEqual({ mailbox: path, uidValidity, lastUid: later[0] });
  });

  test("newEmailsBatched: attachments and criteria, with onlyUnread, one execution per matching message", async () => {
    const { path } = await seedMailbox(USER, { prefix: "FilteredBatch", count: 0 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    const params = {
      mailbox: path,
      hasAttachments: "true",
      criteria: '{"not": {"keyword": "$Done"}}',
      onlyUnread: "true",
      pageSize: "2",
    };
    await run(params, state, { connectionFor: () => connection });
    const added = await withDirect(USER, async (client) => {
      const out: number[] = [];
      for (const [raw, flags] of [
        [withAttachment("with file 1"), []],
        [rfc822({ subject: "no file" }), []],
        [withAttachment("with file, done"), ["$Done"]],
        [withAttachment("with file, read"), ["\\Seen"]],
        [withAttachment("with file 2"), []],
        [withAttachment("with file 3"), []],
      ] as const) {
        const result = await client.append(path, raw, [...flags]);
        if (!result || !result.uid) throw new Error("append failed");
        out.push(result.uid);
      }
      return out;
    });

    const result = await run(params, state, { connectionFor: () => connection });
    expect(result.pages.map((p) => p.items.map((item) => item.uid))).toEqual([
      [added[0], added[4]],
      [added[5]],
    ]);
    expect(itemUids(result.executions)).toEqual([added[0], added[4], added[5]]);
    expect(watermark(state)).toEqual(expect.objectContaining({ lastUid: added[5] }));
  });

  test("a bad filter is refused before connecting, and the cursor stays", async () => {
    const state: Record<string, unknown> = {
      __prismaticInternal: { polling: { mailbox: "INBOX", uidValidity: "1", lastUid: 7 } },
    };
    // a refused port: any connection attempt would fail with a connection error instead
    const connection = tlsConnection(USER, { port: "1" });
    for (const [params, message] of [
      [{ criteria: '{"unknownKey": 1}' }, "unknownKey"],
      [{ criteria: "{not json" }, "Criteria is not valid JSON"],
      [{ subject: "a\nb" }, "line break"],
    ] as const) {
      const err = await failure(() => pollOnce(connection, { mailbox: "INBOX", ...params }, state));
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toContain(message);
    }
    expect(watermark(state)).toEqual({ mailbox: "INBOX", uidValidity: "1", lastUid: 7 });
  });
});

describe("both triggers: several mailboxes in one session", () => {
  const USER = "test40";

  test("newEmailsBatched: mail in two mailboxes, each message naming its mailbox; a deleted one fails the run and moves no cursor", async () => {
    const user = "test38";
    const a = await seedMailbox(user, { prefix: "WatchA", count: 1 });
    const b = await seedMailbox(user, { prefix: "WatchB", count: 1 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(user);
    const params = { mailboxes: [a.path, b.path], pageSize: "2" };
    const first = await run(params, state, { connectionFor: () => connection });
    expect(first.executions).toEqual([]);
    const [va, vb] = [await uidValidityOf(user, a.path), await uidValidityOf(user, b.path)];
    expect(watermark(state)).toEqual({
      cursors: [
        { mailbox: a.path, uidValidity: va, lastUid: a.uids[0] },
        { mailbox: b.path, uidValidity: vb, lastUid: b.uids[0] },
      ],
    });

    const inA = await append(user, a.path, ["a1", "a2"]);
    const inB = await append(user, b.path, ["b1", "b2", "b3"]);
    const result = await run(params, state, { connectionFor: () => connection });
    expect(
      result.pages.map((p) => p.items.map((item) => [item.mailbox, item.uidValidity, item.uid])),
    ).toEqual([
      [
        [a.path, va, inA[0]],
        [a.path, va, inA[1]],
        [b.path, vb, inB[0]],
        [b.path, vb, inB[1]],
      ],
      // only the mailbox with more than a page is polled again
      [[b.path, vb, inB[2]]],
    ]);
    const saved = {
      cursors: [
        { mailbox: a.path, uidValidity: va, lastUid: inA[1] },
        { mailbox: b.path, uidValidity: vb, lastUid: inB[2] },
      ],
    };
    expect(watermark(state)).toEqual(saved);

    await append(user, a.path, ["a3"]);
    await withDirect(user, (client) => client.mailboxDelete(b.path));
    const err = await failure(() => run(params, state, { connectionFor: () => connection }));
    expect(err.code).toBe("MAILBOX_NOT_FOUND");
    expect(err.message).toContain(`The mailbox "${b.path}" does not exist.`);
    expect(watermark(state)).toEqual(saved);
  });

  test("newEmails: one poll of two mailboxes delivers both, each message naming its mailbox; a single-mailbox cursor carries over", async () => {
    const user = "test39";
    const a = await seedMailbox(user, { prefix: "PollA", count: 1 });
    const b = await seedMailbox(user, { prefix: "PollB", count: 0 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(user);
    await pollOnce(connection, { mailbox: a.path }, state);
    const inA = await append(user, a.path, ["a1"]);
    const params = { mailbox: "INBOX", mailboxes: JSON.stringify([a.path, b.path]) };
    // A keeps its cursor (a1 is delivered); B is new: its first poll only records where it stands
    const first = await pollOnce(connection, params, state);
    expect(first.uids).toEqual(inA);
    const inB = await append(user, b.path, ["b1"]);
    const inA2 = await append(user, a.path, ["a2"]);
    const commands: string[] = [];
    const context = { instanceState: state, logger: quiet([], commands), globalDebug: true };
    const result = (await harness.trigger(
      "newEmails",
      {},
      { connection, ...params },
      context,
    )) as unknown as {
      payload: { body: { data: Record<string, unknown> & { messages: Item[] } } };
    };
    const data = result.payload.body.data;
    const [va, vb] = [await uidValidityOf(user, a.path), await uidValidityOf(user, b.path)];
    expect(data.mailbox).toBeNull();
    expect(data.mailboxes).toEqual([
      { mailbox: a.path, uidValidity: va },
      { mailbox: b.path, uidValidity: vb },
    ]);
    expect(data.messages.map((m) => [m.mailbox, m.uidValidity, m.uid])).toEqual([
      [a.path, va, inA2[0]],
      [b.path, vb, inB[0]],
    ]);
    // one session: one login for both mailboxes
    expect(commands.filter((name) => name === "LOGIN" || name === "AUTHENTICATE")).toHaveLength(1);
    expect(watermark(state)).toEqual({
      cursors: [
        { mailbox: a.path, uidValidity: va, lastUid: inA2[0] },
        { mailbox: b.path, uidValidity: vb, lastUid: inB[0] },
      ],
    });
  });

  test("a mailbox listed twice is refused before connecting", async () => {
    const err = await failure(() =>
      pollOnce(tlsConnection(USER, { port: "1" }), { mailboxes: ["INBOX", "inbox"] }, {}),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('Mailboxes lists "inbox" twice: give each mailbox once.');
  });
});

describe("both triggers: a changed UIDVALIDITY loses nothing", () => {
  const USER = "test31";

  /** Deletes and recreates the mailbox (a new UIDVALIDITY), then appends `raws` with their arrival dates. */
  async function recreate(path: string, raws: { raw: string; date?: Date }[]): Promise<number[]> {
    return withDirect(USER, async (client) => {
      await client.mailboxDelete(path);
      await client.mailboxCreate(path);
      const out: number[] = [];
      for (const { raw, date } of raws) {
        const result = await client.append(path, raw, [], date);
        if (!result || !result.uid) throw new Error(`append to ${path} failed`);
        out.push(result.uid);
      }
      return out;
    });
  }

  test("newEmailsBatched: after the mailbox is rebuilt, the mail since the last run is delivered once; old and already delivered mail is not", async () => {
    const { path } = await seedMailbox(USER, { prefix: "Rebuilt", count: 0 });
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    const params = { mailbox: path, pageSize: "2" };
    await run(params, state, { connectionFor: () => connection });
    const oldValidity = await uidValidityOf(USER, path);
    const deliveredRaw = rfc822({ subject: "delivered", messageId: "<delivered-1@example.com>" });
    await withDirect(USER, (client) => client.append(path, deliveredRaw, []));
    const before = await run(params, state, { connectionFor: () => connection });
    expect(itemUids(before.executions)).toHaveLength(1);
    expect(savedState(state)?.deliveredIds).toEqual(["<delivered-1@example.com>"]);

    const lastPollAt = Date.parse(String(savedState(state)?.lastPollAt));
    const longAgo = new Date(lastPollAt - 3 * 24 * 60 * 60 * 1000);
    const newUids = await recreate(path, [
      // the index rebuilt: an old message and the one delivered come back with new UIDs
      { raw: rfc822({ subject: "old", messageId: "<old-1@example.com>" }), date: longAgo },
      { raw: deliveredRaw },
      // arrived between the two runs
      { raw: rfc822({ subject: "new 1", messageId: "<new-1@example.com>" }) },
      { raw: rfc822({ subject: "new 2", messageId: "<new-2@example.com>" }) },
      { raw: rfc822({ subject: "no id", messageId: "" }).replace("Message-ID: \r\n", "") },
    ]);
    const newValidity = await uidValidityOf(USER, path);
    expect(newValidity).not.toBe(oldValidity);

    const after = await run(params, state, { connectionFor: () => connection });
    const delivered = after.executions as Item[];
    expect(
      delivered.map((item) => [item.uid, item.uidValidity, item.recovered, item.possibleRepeat]),
    ).toEqual([
      [newUids[2], newValidity, true, undefined],
      [newUids[3], newValidity, true, undefined],
      [newUids[4], newValidity, true, true],
    ]);
    expect(after.warnings).toEqual([
      expect.stringContaining(`"${path}" changed from ${oldValidity} to ${newValidity}`),
    ]);
    expect(watermark(state)).toEqual({
      mailbox: path,
      uidValidity: newValidity,
      lastUid: newUids[4],
    });

    const again = await run(params, state, { connectionFor: () => connection });
    expect(again.executions).toEqual([]);
    expect(again.warnings).toEqual([]);
  });

  test("a cursor saved by 0.1.0 (no time of the last poll) starts again from the newest message, with the warning", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "RebuiltOld", count: 1 });
    const state: Record<string, unknown> = {
      __prismaticInternal: { polling: { mailbox: path, uidValidity: "1", lastUid: uids[0] } },
    };
    const uidValidity = await uidValidityOf(USER, path);
    const result = await run({ mailbox: path }, state, {
      connectionFor: () => tlsConnection(USER),
    });
    expect(result.executions).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringContaining(`"${path}" changed from 1 to ${uidValidity}`),
    ]);
    expect(result.warnings[0]).toContain(
      "Messages that arrived since the last poll were not delivered",
    );
    expect(watermark(state)).toEqual({ mailbox: path, uidValidity, lastUid: uids[0] });
  });
});

/**
 * One initial sync as the platform runs it on deploy: the trigger's onDeployPerform (with its own
 * inputs and their defaults), paged like a run until the cursor is null.
 */
async function deploy(params: Fields, instanceState: Record<string, unknown>): Promise<Run> {
  const trigger = harness.component.triggers.newEmailsBatched as unknown as {
    inputs: { key: string; default?: string }[];
    onDeployPerform: (
      context: Record<string, unknown>,
      payload: Record<string, unknown>,
      params: Record<string, unknown>,
    ) => Promise<{
      payload: { body: { data: Item[] }; paginationState: Record<string, unknown> | null };
      resultType: string;
    }>;
  };
  const defaults = Object.fromEntries(
    trigger.inputs.map(({ key, default: d }) => [key, `${d ?? ""}`]),
  );
  const warnings: string[] = [];
  const pages: Page[] = [];
  const executions: (Item | Item[])[] = [];
  let cursor: Record<string, unknown> | null = null;
  do {
    const result = await trigger.onDeployPerform(
      { instanceState, logger: quiet(warnings) },
      cursor ? { paginationState: cursor } : {},
      { ...defaults, ...params },
    );
    const current = {
      items: result.payload.body.data,
      paginationState: result.payload.paginationState,
      resultType: result.resultType,
    };
    pages.push(current);
    executions.push(...current.items);
    cursor = current.paginationState;
  } while (cursor !== null);
  return { executions, pages, warnings };
}

describe("newEmailsBatched: the initial sync on deploy", () => {
  const USER = "test26";

  async function dated(path: string, days: string[]): Promise<number[]> {
    return withDirect(USER, async (client) => {
      const out: number[] = [];
      for (const day of days) {
        const result = await client.append(
          path,
          rfc822({ subject: `from ${day}` }),
          [],
          new Date(`${day}T12:00:00Z`),
        );
        if (!result || !result.uid) throw new Error(`append to ${path} failed`);
        out.push(result.uid);
      }
      return out;
    });
  }

  test("startFrom since: the mail that arrived on or after the day, oldest first; the regular runs continue with no gap or repeat", async () => {
    const { path } = await seedMailbox(USER, { prefix: "DeploySince", count: 0 });
    const uids = await dated(path, [
      "2026-10-20",
      "2026-10-31",
      "2026-11-01",
      "2026-11-15",
      "2026-10-25",
    ]);
    const state: Record<string, unknown> = {};
    const connection = tlsConnection(USER);
    const params = { connection, mailbox: path, pageSize: "1" };
    const synced = await deploy({ ...params, startFrom: "since", sinceDate: "2026-11-01" }, state);
    // from the first UID that arrived since that day: the later one dated before it comes too, by UID order
    expect(itemUids(synced.executions)).toEqual([uids[2], uids[3], uids[4]]);
    expect(synced.pages.map((p) => p.items.length)).toEqual([1, 1, 1]);
    const later = await append(USER, path, ["after deploy"]);
    const next = await run(params, state, { connectionFor: () => connection });
    expect(itemUids(next.executions)).toEqual(later);
  });

  test("startFrom lastN: the newest Last Count messages, in pages; startFrom now: nothing old", async () => {
    const { path, uids } = await seedMailbox(USER, { prefix: "DeployLast", count: 5 });
    const connection = tlsConnection(USER);
    const params = { connection, mailbox: path, pageSize: "2" };
    const state: Record<string, unknown> = {};
    const synced = await deploy({ ...params, startFrom: "lastN", lastCount: "3" }, state);
    expect(synced.pages.map((p) => p.items.map((item) => item.uid))).toEqual([
      [uids[2], uids[3]],
      [uids[4]],
    ]);
    const again = await run(params, state, { connectionFor: () => connection });
    expect(again.executions).toEqual([]);

    const fromNow: Record<string, unknown> = {};
    const none = await deploy({ ...params }, fromNow);
    expect(none.executions).toEqual([]);
    expect(none.pages[0]?.resultType).toBe("polled_no_changes");
    expect(watermark(fromNow)).toEqual(expect.objectContaining({ lastUid: uids[4] }));
    const more = await deploy({ ...params, startFrom: "lastN", lastCount: "50" }, {});
    expect(itemUids(more.executions)).toEqual(uids);
  });

  test("a bad Since Date is refused before connecting", async () => {
    const connection = tlsConnection(USER, { port: "1" });
    for (const [sinceDate, message] of [
      ["", "Since Date is empty"],
      ["2026-02-30", 'Since Date "2026-02-30" is not a date'],
    ] as const) {
      const err = await failure(() =>
        deploy({ connection, mailbox: "INBOX", startFrom: "since", sinceDate }, {}),
      );
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toContain(message);
    }
  });
});
