/**
 * Every examplePayload must have exactly the shape a real server's answer has: the designer shows
 * it to builders and they map later steps against it. Each action, the data source and the trigger
 * run once against the real Dovecot, and the shape of the answer (keys, value types, the shapes of
 * list items) is compared with the shape of the example.
 */
import { actions } from "../src/actions";
import { listMailboxes as listMailboxesSource } from "../src/dataSources/listMailboxes";
import { newEmails } from "../src/triggers/newEmails";
import { appendAll, bytes, fixture, mimeMessage } from "./fixtures/fixtures";
import { harness, rfc822, seedMailbox, tlsConnection, uniqueName, withDirect } from "./helpers";

const USER = "test27";
const quiet = () => undefined;
const logger = {
  metric: quiet,
  trace: quiet,
  debug: quiet,
  info: quiet,
  log: quiet,
  warn: quiet,
  error: quiet,
};

/**
 * Where `real` and `example` differ in shape: keys, value types (null matches any type: fields such
 * as html, filename or destinationUid are null when the message has no such thing), and list
 * items (each item of one must have the shape of some item of the other). An empty list says
 * nothing about its items, so it matches any list. `headers` is keyed by the message's own header
 * names: only the shapes of its values count.
 */
function differences(real: unknown, example: unknown, path = "result"): string[] {
  const kind = (value: unknown) =>
    value === null
      ? "null"
      : Buffer.isBuffer(value)
        ? "Buffer"
        : Array.isArray(value)
          ? "array"
          : typeof value;
  if (real === null || example === null) return [];
  if (kind(real) !== kind(example))
    return [`${path}: the server gave ${kind(real)}, the example has ${kind(example)}`];
  if (Array.isArray(real) && Array.isArray(example)) {
    if (real.length === 0 || example.length === 0) return [];
    const unmatched = (from: unknown[], to: unknown[], side: string) =>
      from.flatMap((item, i) =>
        to.some((other) => differences(item, other).length === 0)
          ? []
          : [
              `${path}[${i}] of the ${side} has no counterpart: ${differences(item, to[0], `${path}[${i}]`).join("; ")}`,
            ],
      );
    return [...unmatched(real, example, "server's answer"), ...unmatched(example, real, "example")];
  }
  if (kind(real) === "object" && path.endsWith(".headers")) {
    return differences(Object.values(real as object), Object.values(example as object), path);
  }
  if (kind(real) === "object") {
    const a = real as Record<string, unknown>;
    const b = example as Record<string, unknown>;
    const keys = Array.from(new Set([...Object.keys(a), ...Object.keys(b)])).sort();
    return keys.flatMap((key) => {
      if (!(key in b)) return [`${path}.${key}: only in the server's answer`];
      if (!(key in a)) return [`${path}.${key}: only in the example`];
      return differences(a[key], b[key], `${path}.${key}`);
    });
  }
  return [];
}

function example(key: keyof typeof actions): unknown {
  const payload = actions[key].examplePayload as
    | { data: unknown; contentType?: string }
    | undefined;
  if (!payload) throw new Error(`${key} has no examplePayload`);
  return payload;
}

async function run(key: keyof typeof actions, params: Record<string, unknown>): Promise<unknown> {
  return harness.action(key, { connection: tlsConnection(USER), ...params }, { logger });
}

async function expectSameShape(
  key: keyof typeof actions,
  params: Record<string, unknown>,
): Promise<void> {
  const real = await run(key, params);
  expect(differences(real, example(key))).toEqual([]);
}

test("the shape comparison names each difference", () => {
  const real = { uid: 1, flags: ["\\Seen"], list: [{ a: "x" }], headers: { x: "1" }, gone: null };
  const example = {
    uid: "1",
    flags: [],
    list: [{ b: "x" }],
    headers: { y: ["1"] },
    extra: true,
    gone: 5,
  };
  expect(differences(real, example)).toEqual([
    "result.extra: only in the example",
    "result.headers[0] of the server's answer has no counterpart: result.headers[0]: the server gave string, the example has array",
    "result.headers[0] of the example has no counterpart: result.headers[0]: the server gave array, the example has string",
    "result.list[0] of the server's answer has no counterpart: result.list[0].a: only in the server's answer; result.list[0].b: only in the example",
    "result.list[0] of the example has no counterpart: result.list[0].a: only in the example; result.list[0].b: only in the server's answer",
    "result.uid: the server gave number, the example has string",
  ]);
});

describe("each examplePayload has the shape of a real answer", () => {
  let box: { path: string; uids: number[] };
  let destination: string;

  beforeAll(async () => {
    box = await seedMailbox(USER, {
      prefix: "example",
      count: 7,
      flags: (i) => (i === 0 ? ["\\Seen"] : []),
    });
    destination = uniqueName("example-dest");
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(destination);
    });
  });

  test("listMailboxes (action and data source)", async () => {
    await expectSameShape("listMailboxes", {});
    const real = await harness.dataSource(
      "listMailboxes",
      { connection: tlsConnection(USER) },
      { logger },
    );
    expect(differences(real, listMailboxesSource.examplePayload)).toEqual([]);
  });

  test("getStatus", async () => {
    await expectSameShape("getStatus", { mailbox: box.path });
  });

  test("addFlags, removeFlags, setFlags", async () => {
    const uids = `${box.uids[0]},${box.uids[1]}`;
    await expectSameShape("addFlags", { mailbox: box.path, uids, flags: ["\\Flagged"] });
    await expectSameShape("removeFlags", { mailbox: box.path, uids, flags: ["\\Answered"] });
    await expectSameShape("setFlags", { mailbox: box.path, uids, flags: ["\\Flagged"] });
  });

  test("appendMessage", async () => {
    await expectSameShape("appendMessage", {
      mailbox: box.path,
      message: rfc822({ subject: "appended" }),
    });
  });

  test("copyMessage and moveMessage", async () => {
    await expectSameShape("copyMessage", {
      mailbox: box.path,
      uids: `${box.uids[2]}:${box.uids[3]}`,
      destination,
    });
    await expectSameShape("moveMessage", {
      mailbox: box.path,
      uids: `${box.uids[2]}:${box.uids[3]}`,
      destination,
    });
  });

  test("deleteMessage (mode trash: mode expunge returns true) and archiveMessage", async () => {
    await expectSameShape("deleteMessage", {
      mailbox: box.path,
      uid: String(box.uids[4]),
      mode: "trash",
    });
    await expectSameShape("archiveMessage", { mailbox: box.path, uids: String(box.uids[5]) });
  });

  test("createMailbox, renameMailbox, deleteMailbox", async () => {
    const path = uniqueName("example-admin");
    await expectSameShape("createMailbox", { path });
    await expectSameShape("renameMailbox", { path, newPath: `${path}-renamed` });
    await expectSameShape("deleteMailbox", { path: `${path}-renamed` });
  });

  test("createDraft and createReplyDraft", async () => {
    await expectSameShape("createDraft", { to: "bob@example.com", subject: "Draft" });
    await expectSameShape("createReplyDraft", { mailbox: box.path, uid: String(box.uids[6]) });
  });

  test("waitForEmail (Received, with its branch)", async () => {
    await expectSameShape("waitForEmail", {
      mailbox: box.path,
      after: String(box.uids[0]),
      timeoutSeconds: "5",
    });
  });

  test("searchMailbox (a page with a next page)", async () => {
    await expectSameShape("searchMailbox", { mailbox: box.path, limit: "1" });
  });

  describe("with attachments", () => {
    let parts: { mailbox: string; uids: { inline: number } };

    beforeAll(async () => {
      parts = await appendAll(USER, { inline: fixture("inline-images.eml") }, ["\\Flagged"]);
    });

    test("getMessage", async () => {
      await expectSameShape("getMessage", {
        mailbox: parts.mailbox,
        uid: String(parts.uids.inline),
        includeAttachments: "true",
      });
    });

    test("downloadMessage (whole message and one part) and downloadAttachment", async () => {
      const uid = String(parts.uids.inline);
      await expectSameShape("downloadMessage", { mailbox: parts.mailbox, uid });
      await expectSameShape("downloadMessage", { mailbox: parts.mailbox, uid, part: "2" });
      await expectSameShape("downloadAttachment", { mailbox: parts.mailbox, uid, partId: "2" });
    });

    test("the newEmails trigger, with content", async () => {
      const mailbox = uniqueName("example-trigger");
      await withDirect(USER, async (client) => {
        await client.mailboxCreate(mailbox);
      });
      const instanceState: Record<string, unknown> = {};
      const params = { connection: tlsConnection(USER), mailbox, fetchContent: "true" };
      await harness.trigger("newEmails", {}, params, { instanceState, logger });
      await withDirect(USER, async (client) => {
        await client.append(
          mailbox,
          mimeMessage("Invoice", [
            { type: "application/pdf", filename: "invoice.pdf", data: bytes.pdf },
          ]),
          ["\\Flagged"],
        );
      });
      const real = (await harness.trigger("newEmails", {}, params, {
        instanceState,
        logger,
      })) as unknown as {
        payload: { body: { data: { messages: unknown[] } } };
      };
      const exampleResult = newEmails.examplePayload as unknown as {
        payload: { body: { data: unknown } };
      };
      expect(real.payload.body.data.messages.length).toBe(1);
      expect(differences(real.payload.body.data, exampleResult.payload.body.data)).toEqual([]);
    });
  });
});
