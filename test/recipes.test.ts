/**
 * The recipes of documentation.md, run step by step exactly as they are written there: each step
 * is one invocation of the component, with the inputs the recipe shows, and the mailboxes are
 * read back with a separate client.
 */
import type { Connection } from "@prismatic-io/spectral";
import { createConnection } from "@prismatic-io/spectral/dist/testing";
import { silentLogger } from "../scripts/bench-helpers";
import { imapM365CertificateConnection } from "../src/connections";
import { clearTokenCache } from "../src/tokens";
import {
  failure,
  flagsByUid,
  harness,
  rfc822,
  server,
  tlsConnection,
  uniqueName,
  withDirect,
} from "./helpers";
import type { Introspection } from "./introspection";
import { holdIntrospectionPort, startIntrospection } from "./introspection";
import type { TestCertificate } from "./testKeys";
import { testCertificate } from "./testKeys";
import type { TokenEndpoint } from "./tokenEndpoint";
import { APP_ONLY_SCOPE, startTokenEndpoint } from "./tokenEndpoint";

const USER = "test30";

type Message = {
  uid: number;
  envelope: { subject: string };
  attachments?: { partId: string; filename: string | null; contentType: string }[];
};

/** A message with one PDF attachment, as an invoice arrives. */
function invoice(number: string, pdf: Buffer): string {
  return [
    "From: Billing <billing@supplier.example>",
    "To: invoices@example.com",
    `Subject: Invoice ${number}`,
    `Message-ID: <${uniqueName("invoice")}@supplier.example>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Please find invoice ${number} attached.`,
    "--b",
    `Content-Type: application/pdf; name="invoice-${number}.pdf"`,
    `Content-Disposition: attachment; filename="invoice-${number}.pdf"`,
    "Content-Transfer-Encoding: base64",
    "",
    pdf.toString("base64"),
    "--b--",
    "",
  ].join("\r\n");
}

async function subjectsIn(mailbox: string): Promise<string[]> {
  return withDirect(USER, async (client) => {
    const lock = await client.getMailboxLock(mailbox, { readOnly: true });
    try {
      if (client.mailbox && client.mailbox.exists === 0) return [];
      const rows = await client.fetchAll("1:*", { envelope: true }, { uid: true });
      return rows.map((row) => row.envelope?.subject ?? "").sort();
    } finally {
      lock.release();
    }
  });
}

describe("recipe: when an invoice arrives, save the PDF and move the mail to Processed", () => {
  test("every invoice's PDF is saved once and its mail ends in Processed; other mail stays", async () => {
    const connection = tlsConnection(USER);
    const inbox = uniqueName("Invoices");
    const processed = `${inbox}/Processed`;
    await withDirect(USER, (client) => client.mailboxCreate(inbox));
    const instanceState: Record<string, unknown> = {};
    const poll = async () =>
      (
        (await harness.trigger(
          "newEmails",
          {},
          { connection, mailbox: inbox, fetchContent: "true" },
          { instanceState, logger: silentLogger },
        )) as { payload: { body: { data: { messages: Message[] } } } }
      ).payload.body.data.messages;

    await poll(); // deploy: the first poll records where the mailbox stands
    const pdfs = {
      "2026-001": Buffer.from("%PDF-1.4 one"),
      "2026-002": Buffer.from("%PDF-1.4 two"),
    };
    await withDirect(USER, async (client) => {
      await client.append(inbox, invoice("2026-001", pdfs["2026-001"]));
      await client.append(inbox, rfc822({ subject: "Lunch on Friday?" }));
      await client.append(inbox, invoice("2026-002", pdfs["2026-002"]));
    });

    const saved: Record<string, Buffer> = {};
    for (const message of await poll()) {
      // Step 2 (branch): only messages with a PDF attachment
      const pdf = message.attachments?.find((item) => item.contentType === "application/pdf");
      if (!pdf) continue;
      // Step 3: download the PDF before the move (the UID belongs to the inbox)
      const file = (await harness.action("downloadAttachment", {
        connection,
        mailbox: inbox,
        uid: String(message.uid),
        partId: pdf.partId,
      })) as { data: Buffer; contentType: string };
      saved[pdf.filename ?? ""] = file.data; // stands in for the Save File step
      // Step 4: make sure Processed exists (created: false from the second time on)
      await harness.action("createMailbox", { connection, path: processed });
      // Step 5: move the mail
      await harness.action("moveMessage", {
        connection,
        mailbox: inbox,
        uids: String(message.uid),
        destination: processed,
      });
    }

    expect(saved).toEqual({
      "invoice-2026-001.pdf": pdfs["2026-001"],
      "invoice-2026-002.pdf": pdfs["2026-002"],
    });
    expect(await subjectsIn(processed)).toEqual(["Invoice 2026-001", "Invoice 2026-002"]);
    expect(await subjectsIn(inbox)).toEqual(["Lunch on Friday?"]);
    // the next poll delivers nothing again: each invoice ran once
    expect(await poll()).toEqual([]);
  });
});

describe("recipe: archive everything older than 90 days in batches", () => {
  test("a loop of search (before, limit) and move empties the old mail and keeps the recent", async () => {
    const connection = tlsConnection(USER);
    const mailbox = uniqueName("Old");
    const archive = `${mailbox}-Archive`;
    const now = Date.now();
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(mailbox);
      await client.mailboxCreate(archive);
      for (let i = 0; i < 7; i += 1) {
        // 100 to 106 days old
        const date = new Date(now - (100 + i) * 24 * 3600 * 1000);
        await client.append(mailbox, rfc822({ subject: `old ${i}` }), [], date);
      }
      await client.append(mailbox, rfc822({ subject: "recent" }), [], new Date(now - 3600 * 1000));
    });
    const before = new Date(now - 90 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    let batches = 0;
    for (;;) {
      // Step 1: the next batch (no cursor: the moved messages are gone from the mailbox)
      const page = (await harness.action("searchMailbox", {
        connection,
        mailbox,
        before,
        limit: "3",
      })) as { data: { messages: { uid: number }[] } };
      if (page.data.messages.length === 0) break;
      // Step 2: move the batch
      await harness.action("moveMessage", {
        connection,
        mailbox,
        uids: page.data.messages.map((message) => message.uid).join(","),
        destination: archive,
      });
      batches += 1;
    }
    expect(batches).toBe(3);
    expect(await subjectsIn(mailbox)).toEqual(["recent"]);
    expect(await subjectsIn(archive)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `old ${i}`));
  });
});

/** One run of New Emails (One Execution per Message): the messages of its executions (one page). */
async function batchedRun(
  connection: Connection,
  mailbox: string,
  instanceState: Record<string, unknown>,
  extra: Record<string, string> = {},
): Promise<BatchedItem[]> {
  const result = (await harness.trigger(
    "newEmailsBatched",
    {},
    { connection, mailbox, ...extra },
    { instanceState, logger: silentLogger },
  )) as unknown as {
    payload: { body: { data: BatchedItem[] }; paginationState: unknown };
  };
  // a run of more than one page would show here; these recipes stay within one
  expect(result.payload.paginationState ?? null).toBeNull();
  return result.payload.body.data;
}

type BatchedItem = Message & { mailbox: string; uidValidity: string; replyText?: string | null };

describe("recipe: draft a reply for a person to review", () => {
  test("each customer mail gets one reply-all draft in Drafts, threaded and quoted, and $Drafted", async () => {
    const connection = tlsConnection(USER);
    const support = uniqueName("Support");
    await withDirect(USER, (client) => client.mailboxCreate(support));
    const instanceState: Record<string, unknown> = {};
    expect(await batchedRun(connection, support, instanceState, { fetchContent: "true" })).toEqual(
      [],
    );
    const messageId = `<${uniqueName("question")}@customer.example>`;
    await withDirect(USER, (client) =>
      client.append(
        support,
        [
          "From: Ana Customer <ana@customer.example>",
          `To: Support <${USER}@example.com>`,
          "Cc: Ben Colleague <ben@customer.example>",
          "Subject: Where is my order?",
          `Message-ID: ${messageId}`,
          "Date: Tue, 01 Dec 2026 09:00:00 +0000",
          "MIME-Version: 1.0",
          "Content-Type: text/plain; charset=utf-8",
          "",
          "Hello, order 4711 has not arrived yet.",
          "",
          "-- ",
          "Ana",
          "",
        ].join("\r\n"),
      ),
    );

    const executions = await batchedRun(connection, support, instanceState, {
      fetchContent: "true",
    });
    expect(executions.map((message) => message.envelope.subject)).toEqual(["Where is my order?"]);
    const drafts: { uid: number; mailbox: string }[] = [];
    for (const message of executions) {
      // Step 2: the answer, from the customer's own words
      expect(message.replyText).toBe("Hello, order 4711 has not arrived yet.");
      const answer = "Dear Ana, order 4711 left our warehouse today.";
      // Step 3: the draft
      const draft = (await harness.action("createReplyDraft", {
        connection,
        mailbox: message.mailbox,
        uid: String(message.uid),
        uidValidity: message.uidValidity,
        mode: "replyAll",
        text: answer,
        from: `${USER}@example.com`,
      })) as { data: { mailbox: string; uid: number } };
      drafts.push(draft.data);
      // Step 4: mark the original
      await harness.action("addFlags", {
        connection,
        mailbox: message.mailbox,
        uids: String(message.uid),
        uidValidity: message.uidValidity,
        flags: ["$Drafted"],
      });
    }

    expect(drafts.map((draft) => draft.mailbox)).toEqual(["Drafts"]);
    const stored = await withDirect(USER, async (client) => {
      const lock = await client.getMailboxLock("Drafts", { readOnly: true });
      try {
        return await client.fetchOne(
          String(drafts[0]?.uid),
          { source: true, flags: true },
          { uid: true },
        );
      } finally {
        lock.release();
      }
    });
    const source = stored ? (stored.source?.toString("utf8") ?? "") : "";
    expect(source).toMatch(/^To: Ana Customer <ana@customer\.example>\r$/m);
    expect(source).toMatch(/^Cc: Ben Colleague <ben@customer\.example>\r$/m);
    expect(source).toMatch(/^Subject: Re: Where is my order\?\r$/m);
    expect(source).toContain(`In-Reply-To: ${messageId}\r\n`);
    expect(source).toContain(`References: ${messageId}\r\n`);
    expect(source).toContain("Dear Ana, order 4711 left our warehouse today.");
    expect(source).toContain("> Hello, order 4711 has not arrived yet.");
    expect(stored ? [...(stored.flags ?? [])].sort() : []).toEqual(["\\Draft", "\\Seen"]);
    // the customer's message: still unread, marked as drafted
    expect(Object.values(await flagsByUid(USER, support))).toEqual([["$Drafted"]]);
    // nothing is delivered twice
    expect(await batchedRun(connection, support, instanceState, { fetchContent: "true" })).toEqual(
      [],
    );
  });
});

describe("recipe: poll a shared mailbox with app-only access", () => {
  const TENANT = "fabrikam.onmicrosoft.com";
  const APP = "13579bdf-2468-4ace-8bdf-0123456789ab";
  const active: Record<string, string> = {};
  let releasePort: () => void = () => undefined;
  let introspection: Introspection | undefined;
  let endpoint: TokenEndpoint | undefined;
  let certificate: TestCertificate;

  beforeAll(async () => {
    certificate = testCertificate();
    releasePort = await holdIntrospectionPort();
    introspection = await startIntrospection(active);
    endpoint = await startTokenEndpoint({
      active,
      tenant: TENANT,
      apps: [{ clientId: APP, certificatePem: certificate.certificatePem, mailbox: USER }],
      serviceAccounts: [],
      domainUsers: [],
    });
  }, 600_000);

  afterAll(async () => {
    await endpoint?.close();
    await introspection?.close();
    releasePort();
  });

  /** Step 2: the connection, as a builder fills it in (the shared mailbox's address as Mailbox Address). */
  const appOnly = (): Connection =>
    createConnection(imapM365CertificateConnection, {
      host: server.host,
      port: String(server.tlsPort),
      encryption: "tls",
      verifyCertificate: "true",
      caCertificate: server.ca,
      authority: endpoint?.authority ?? "",
      tenant: TENANT,
      clientId: APP,
      certificate: certificate.pem,
      scopes: APP_ONLY_SCOPE,
      username: USER,
    });

  test("one execution per new message, one token for all steps, nothing lost while access was withdrawn", async () => {
    clearTokenCache();
    const tokens = () => endpoint?.requests ?? 0;
    const mailbox = "INBOX";
    // Step 3: the check (Dovecot offers OAUTHBEARER, which is preferred; Microsoft 365 offers XOAUTH2 only)
    const check = (await harness.action("checkConnection", { connection: appOnly() })) as {
      data: { ok: boolean; login: { user: string; mechanism: string } };
    };
    expect(check.data).toMatchObject({
      ok: true,
      login: { user: USER, mechanism: "AUTH=OAUTHBEARER" },
    });
    // Step 4: the trigger; its first run records where INBOX stands
    const instanceState: Record<string, unknown> = {};
    expect(await batchedRun(appOnly(), mailbox, instanceState)).toEqual([]);
    const subjects = [uniqueName("Shared one"), uniqueName("Shared two")];
    await withDirect(USER, async (client) => {
      for (const subject of subjects) await client.append(mailbox, rfc822({ subject }));
    });
    const executions = await batchedRun(appOnly(), mailbox, instanceState);
    expect(executions.map((message) => message.envelope.subject)).toEqual(subjects);
    // Step 5: each execution acts on its message with the same connection
    for (const message of executions) {
      const read = (await harness.action("getMessage", {
        connection: appOnly(),
        mailbox: message.mailbox,
        uid: String(message.uid),
        uidValidity: message.uidValidity,
      })) as { data: { subject: string } };
      expect(read.data.subject).toBe(message.envelope.subject);
      await harness.action("addFlags", {
        connection: appOnly(),
        mailbox: message.mailbox,
        uids: String(message.uid),
        uidValidity: message.uidValidity,
        flags: ["$Processed"],
      });
    }
    const flags = await flagsByUid(USER, mailbox);
    for (const message of executions) expect(flags[message.uid]).toEqual(["$Processed"]);
    // check, 3 polls, 2 reads and 2 flag changes: one token
    expect(tokens()).toBe(1);

    // The application loses its access: the token the component holds is no longer accepted
    for (const token of Object.keys(active)) delete active[token];
    const late = uniqueName("Shared late");
    await withDirect(USER, (client) => client.append(mailbox, rfc822({ subject: late })));
    const refused = await failure(() => batchedRun(appOnly(), mailbox, instanceState));
    expect(refused.code).toBe("MAILBOX_ACCESS_NOT_GRANTED");
    // Access is back (the next token is accepted): the message that arrived meanwhile comes once
    const after = await batchedRun(appOnly(), mailbox, instanceState);
    expect(after.map((message) => message.envelope.subject)).toEqual([late]);
    expect(await batchedRun(appOnly(), mailbox, instanceState)).toEqual([]);
    expect(tokens()).toBe(2);
  });
});
