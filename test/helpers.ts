/**
 * Test helpers: the real server's coordinates, connections for the harness, and a separate
 * imapflow client to read the effect of an action back from the server.
 */
import fs from "node:fs";
import path from "node:path";
import type { Connection } from "@prismatic-io/spectral";
import { createConnection, createHarness } from "@prismatic-io/spectral/dist/testing";
import { ImapFlow } from "imapflow";
import component from "../src";
import { imapConnection, imapOAuth2Connection } from "../src/connections";
import { checkActionResult, checkTriggerResult } from "./schemaCheck";

/** Where scripts/test-server.sh keeps the local server (configuration, CA, mail store). */
export const stateDir = process.env.IMAP_TEST_STATE_DIR ?? "/tmp/imap-component-dovecot";

export const server = {
  host: process.env.IMAP_TEST_HOST ?? "127.0.0.1",
  tlsPort: Number(process.env.IMAP_TEST_TLS_PORT ?? 10993),
  plainPort: Number(process.env.IMAP_TEST_PLAIN_PORT ?? 10143),
  /** A second address of the server where login really requires STARTTLS. */
  starttlsHost: process.env.IMAP_TEST_STARTTLS_HOST ?? "127.0.0.2",
  /** The instance without MOVE, UIDPLUS, CONDSTORE, SPECIAL-USE, IDLE and STARTTLS. */
  legacyPort: Number(process.env.IMAP_TEST_LEGACY_PORT ?? 11143),
  password: process.env.IMAP_TEST_PASSWORD ?? "imap-test-password",
  ca: fs.readFileSync(
    process.env.IMAP_TEST_CA_FILE ?? path.join(stateDir, "tls", "ca.crt"),
    "utf8",
  ),
};

/**
 * spectral's test harness, with every action and trigger result checked against the schema the
 * component declares for it (test/schemaCheck.ts).
 */
export const harness = createHarness(component);
// Under jest only: the benchmarks share these helpers and time the component alone.
if (process.env.JEST_WORKER_ID !== undefined) {
  const runAction = harness.action.bind(harness);
  const runTrigger = harness.trigger.bind(harness);
  harness.action = (async (...args: Parameters<typeof runAction>) => {
    const result = await runAction(...args);
    checkActionResult(args[0], result);
    return result;
  }) as typeof harness.action;
  harness.trigger = (async (...args: Parameters<typeof runTrigger>) => {
    const result = await runTrigger(...args);
    checkTriggerResult(args[0], result);
    return result;
  }) as typeof harness.trigger;
}

export type Fields = Record<string, unknown>;

/** A connection to the main instance over implicit TLS, trusting the test CA. */
export function tlsConnection(user: string, overrides: Fields = {}): Connection {
  return createConnection(imapConnection, {
    host: server.host,
    port: String(server.tlsPort),
    encryption: "tls",
    username: user,
    password: server.password,
    verifyCertificate: "true",
    caCertificate: server.ca,
    ...overrides,
  });
}

/**
 * An OAuth 2.0 connection to the main instance over implicit TLS, as the platform hands it over
 * after authorisation: the fields, and the token with its access_token. The token is checked by
 * the introspection endpoint of test/introspection.ts, which the test must have started.
 */
export function oauthConnection(user: string, token: string, overrides: Fields = {}): Connection {
  const fields = {
    host: server.host,
    port: String(server.tlsPort),
    encryption: "tls",
    username: user,
    verifyCertificate: "true",
    caCertificate: server.ca,
    authorizeUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    tokenUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    scopes: "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
    clientId: "00000000-0000-0000-0000-000000000000",
    clientSecret: "test-client-secret",
    ...overrides,
  };
  return createConnection(imapOAuth2Connection, fields, {
    access_token: token,
    token_type: "Bearer",
    refresh_token: "test-refresh-token",
    expires_in: 3600,
  });
}

/** A cleartext connection to the legacy instance (no MOVE, UIDPLUS, CONDSTORE, SPECIAL-USE, IDLE). */
export function legacyConnection(user: string, overrides: Fields = {}): Connection {
  return tlsConnection(user, {
    port: String(server.legacyPort),
    encryption: "none",
    caCertificate: "",
    ...overrides,
  });
}

/** A separate client, to read the effect of an action back from the server. */
export async function directClient(user: string): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: server.host,
    port: server.tlsPort,
    secure: true,
    tls: { ca: [server.ca] },
    auth: { user, pass: server.password },
    logger: false,
    disableAutoIdle: true,
  });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Logs out (whatever state the client is in) and closes the socket. */
export async function closeDirect(client: ImapFlow): Promise<void> {
  await client.logout().catch(() => undefined);
  client.close();
}

export async function withDirect<T>(
  user: string,
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = await directClient(user);
  try {
    return await work(client);
  } finally {
    await closeDirect(client);
  }
}

let counter = 0;
/** A mailbox name no other test uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export function rfc822(options: {
  subject: string;
  from?: string;
  to?: string;
  body?: string;
  messageId?: string;
  date?: string;
  headers?: string[];
}): string {
  const lines = [
    `From: ${options.from ?? "Alice Example <alice@example.com>"}`,
    `To: ${options.to ?? "Bob Example <bob@example.com>"}`,
    `Subject: ${options.subject}`,
    `Date: ${options.date ?? "Tue, 24 Nov 2026 10:00:00 +0000"}`,
    `Message-ID: ${options.messageId ?? `<${uniqueName("msg")}@example.com>`}`,
    ...(options.headers ?? []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    options.body ?? `Body of ${options.subject}`,
    "",
  ];
  return lines.join("\r\n");
}

/** Creates a fresh mailbox with `count` messages and returns its path and their UIDs. */
export async function seedMailbox(
  user: string,
  options: {
    prefix?: string;
    count: number;
    subject?: (i: number) => string;
    flags?: (i: number) => string[];
  },
): Promise<{ path: string; uids: number[] }> {
  const mailbox = uniqueName(options.prefix ?? "seed");
  return withDirect(user, async (client) => {
    await client.mailboxCreate(mailbox);
    const uids: number[] = [];
    for (let i = 0; i < options.count; i += 1) {
      const subject = options.subject ? options.subject(i) : `Message ${i + 1}`;
      const result = await client.append(
        mailbox,
        rfc822({ subject }),
        options.flags ? options.flags(i) : [],
      );
      if (!result || !result.uid) throw new Error(`append to ${mailbox} failed`);
      uids.push(result.uid);
    }
    return { path: mailbox, uids };
  });
}

/**
 * Opens `mailbox` in a separate client (EXAMINE when read-only) for `work`, and always releases
 * the lock and logs out.
 */
export async function withDirectMailbox<T>(
  user: string,
  mailbox: string,
  options: { readOnly: boolean },
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  return withDirect(user, async (client) => {
    const lock = await client.getMailboxLock(mailbox, { readOnly: options.readOnly });
    try {
      return await work(client);
    } finally {
      lock.release();
    }
  });
}

/** Flags without \Recent, which only says which session looked first (in any letter case). */
export function withoutRecent(flags: Iterable<string> | undefined): string[] {
  return Array.from(flags ?? []).filter((flag) => flag.toLowerCase() !== "\\recent");
}

/** Flags (sorted, without \Recent) of every message of a mailbox, read back by UID. */
export async function flagsByUid(user: string, mailbox: string): Promise<Record<number, string[]>> {
  return withDirectMailbox(user, mailbox, { readOnly: true }, async (client) => {
    const out: Record<number, string[]> = {};
    if ((client.mailbox && client.mailbox.exists) === 0) return out;
    for await (const msg of client.fetch("1:*", { uid: true, flags: true }, { uid: true })) {
      out[msg.uid] = withoutRecent(msg.flags).sort();
    }
    return out;
  });
}

/** How many sockets and timers are open in this process. */
export function openResources(): { sockets: number; timers: number } {
  const names = process.getActiveResourcesInfo();
  return {
    sockets: names.filter((name) => name === "TCPSocketWrap" || name === "TLSWrap").length,
    timers: names.filter((name) => name === "Timeout").length,
  };
}

/**
 * Waits (up to a second) until no more sockets and timers are open than `before`, and returns
 * the counts then: an invocation must leave nothing behind once its sockets finished closing.
 */
export async function resourcesAfter(before: {
  sockets: number;
  timers: number;
}): Promise<{ sockets: number; timers: number }> {
  const deadline = Date.now() + 1000;
  const settled = (now: { sockets: number; timers: number }) =>
    now.sockets <= before.sockets && now.timers <= before.timers;
  let now = openResources();
  while (!settled(now) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = openResources();
  }
  return {
    sockets: Math.max(now.sockets, before.sockets),
    timers: Math.max(now.timers, before.timers),
  };
}

/** Every form in which a token could leak: as is, URL-encoded, and inside any base64 text. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  const forms = [secret, encodeURIComponent(secret)];
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
    // only the characters made of the secret's bits alone, whatever comes before and after it
    forms.push(
      encoded.slice(Math.ceil((shift * 8) / 6), Math.floor(((shift + bytes.length) * 8) / 6)),
    );
  }
  return forms;
}

/** The forms of `secret` found in `text` (empty when it does not leak). */
export function leaks(text: string, secret: string): string[] {
  return secretForms(secret).filter((form) => text.includes(form));
}

/** Runs `work` and returns the error it threw (failing the test if it did not throw). */
export async function failure(
  work: () => Promise<unknown>,
): Promise<Error & Record<string, unknown>> {
  try {
    await work();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error("expected a failure, but it succeeded");
}
