/**
 * Check Connection: logs in with a connection and reports what a support person needs to know
 * about the server, or, when something fails, the stage it failed at and the fix, as data rather
 * than a thrown error, so a flow can show it to the customer.
 */
import type { TLSSocket } from "node:tls";
import type { Connection } from "@prismatic-io/spectral";
import type { ImapFlow } from "imapflow";
import type { ImapErrorCode } from "./errors";
import { ImapConnectionError, ImapError, InputError } from "./errors";
import { hasFlag } from "./serialize";
import type { SessionContext } from "./session";
import { withSession } from "./session";

/** The extensions whose presence changes what this component does on a server. */
const EXTENSIONS = [
  "UIDPLUS",
  "MOVE",
  "CONDSTORE",
  "QRESYNC",
  "SPECIAL-USE",
  "IDLE",
  "ESEARCH",
  "COMPRESS=DEFLATE",
  "BINARY",
  "LIST-STATUS",
  "X-GM-EXT-1",
  "OBJECTID",
  "QUOTA",
] as const;

/** RFC 6154's special uses, as LIST reports them among a mailbox's attributes. */
const SPECIAL_USES = ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"];

export interface Healthy {
  ok: true;
  server: {
    host: string;
    port: number;
    encryption: string;
    greeting: string;
    /** The server's ID answer (RFC 2971): name, vendor, version, ...; null when it sends none. */
    id: Record<string, string> | null;
  };
  login: { user: string; mechanism: string | null };
  tls: {
    version: string | null;
    cipher: string | null;
    certificate: { subject: string; issuer: string; validFrom: string; validTo: string } | null;
  } | null;
  capabilities: Record<(typeof EXTENSIONS)[number], boolean>;
  authMechanisms: string[];
  /** Special-use attribute (e.g. \Sent) to the path of the mailbox that has it. */
  specialUseMailboxes: Record<string, string>;
  roundTripMs: number;
  /** In plain words, what the component does differently on this server. */
  notes: string[];
}

export type Stage = "settings" | "token" | "connect" | "tls" | "greeting" | "login" | "session";

export interface Unhealthy {
  ok: false;
  stage: Stage;
  code: string;
  message: string;
  fix: string;
}

const STAGES: Partial<Record<ImapErrorCode, Stage>> = {
  HOST_NOT_FOUND: "connect",
  CONNECTION_REFUSED: "connect",
  CONNECT_TIMEOUT: "connect",
  TLS_CERTIFICATE: "tls",
  TLS_HANDSHAKE: "tls",
  TLS_HANDSHAKE_TIMEOUT: "tls",
  STARTTLS_UNAVAILABLE: "tls",
  STARTTLS_TIMEOUT: "tls",
  STARTTLS_INJECTION: "tls",
  GREETING_TIMEOUT: "greeting",
  ENCRYPTION_MISMATCH: "greeting",
  AUTHENTICATION_FAILED: "login",
  AUTHENTICATION_UNAVAILABLE: "login",
  LOGIN_DISABLED: "login",
  OAUTH_UNSUPPORTED: "login",
  MAILBOX_ACCESS_NOT_GRANTED: "login",
  NOT_AUTHORIZED: "login",
};

/** Errors of the token request that app-only connections make before connecting. */
function stageOf(code: ImapErrorCode): Stage {
  if (code.startsWith("TOKEN_") && code !== "TOKEN_EXPIRED") return "token";
  return STAGES[code] ?? "session";
}

const FIXES: Partial<Record<ImapErrorCode | "INVALID_SETTINGS", string>> = {
  INVALID_SETTINGS: "Correct the connection field named in the message.",
  HOST_NOT_FOUND: "Check the host name for typos; it must resolve from the integration's runner.",
  CONNECTION_REFUSED:
    "Check the port: 993 for implicit TLS, 143 for STARTTLS; and that the server accepts connections from the internet.",
  CONNECT_TIMEOUT:
    "Check the host and port, and that no firewall drops connections from the integration's runner.",
  TLS_CERTIFICATE:
    "Paste the server's CA certificate into CA Certificate, or connect with the host name the certificate was issued for.",
  TLS_HANDSHAKE: 'Match encryption to the port: "tls" for 993, "starttls" for 143.',
  TLS_HANDSHAKE_TIMEOUT: 'Match encryption to the port: "tls" for 993, "starttls" for 143.',
  STARTTLS_UNAVAILABLE: 'Use encryption "tls" on port 993.',
  STARTTLS_TIMEOUT: 'Use encryption "tls" on port 993.',
  STARTTLS_INJECTION: 'Use encryption "tls" on port 993, and tell the server\'s administrator.',
  GREETING_TIMEOUT:
    'Check that the port speaks IMAP and that encryption matches it ("tls" for 993).',
  ENCRYPTION_MISMATCH: 'Set encryption to "tls" for port 993.',
  AUTHENTICATION_FAILED:
    "Check the username and password (or app password); for OAuth, authorise the connection again.",
  AUTHENTICATION_UNAVAILABLE: "Retry later: the server could not check the login right now.",
  LOGIN_DISABLED: 'Set encryption to "starttls" or "tls".',
  OAUTH_UNSUPPORTED: "Check the host, or use the password connection for this server.",
  THROTTLED: "Wait for the time the message names, then check again.",
};

/**
 * The login mechanisms the server offered, each marked true when imapflow logged in with it
 * (imapflow keeps this map, undeclared in its types; LOGIN stands for the plain LOGIN command).
 */
function authMechanisms(client: ImapFlow): Map<string, boolean> {
  const map = Reflect.get(client, "authCapabilities");
  return map instanceof Map ? (map as Map<string, boolean>) : new Map();
}

function mechanismOf(client: ImapFlow): string | null {
  for (const [mechanism, used] of authMechanisms(client)) if (used) return mechanism;
  return null;
}

function tlsOf(client: ImapFlow): Healthy["tls"] {
  const socket = Reflect.get(client, "socket") as Partial<TLSSocket> | undefined;
  if (!socket || typeof socket.getPeerCertificate !== "function") return null;
  const peer = socket.getPeerCertificate();
  const name = (fields: Record<string, unknown> | undefined) =>
    Object.entries(fields ?? {})
      .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : String(value)}`)
      .join(", ");
  return {
    version: socket.getProtocol?.() ?? null,
    cipher: socket.getCipher?.()?.name ?? null,
    certificate:
      peer && Object.keys(peer).length > 0
        ? {
            subject: name(peer.subject as unknown as Record<string, unknown>),
            issuer: name(peer.issuer as unknown as Record<string, unknown>),
            validFrom: new Date(peer.valid_from).toISOString(),
            validTo: new Date(peer.valid_to).toISOString(),
          }
        : null,
  };
}

/** What the component does differently on a server with these capabilities. */
export function notesFor(has: (capability: string) => boolean): string[] {
  const notes: string[] = [];
  if (!has("MOVE"))
    notes.push(
      "No MOVE: moving is a copy, a check that every copy arrived, then an exact expunge of the moved messages.",
    );
  if (!has("UIDPLUS"))
    notes.push(
      "No UIDPLUS: new UIDs after append, copy and move are found by Message-ID and size, and a delete refuses when other messages are marked \\Deleted (a plain EXPUNGE would remove them too).",
    );
  if (!has("SPECIAL-USE"))
    notes.push(
      "No SPECIAL-USE: Sent, Drafts, Trash and the like are recognised by their usual names only.",
    );
  if (!has("ESEARCH"))
    notes.push("No ESEARCH: search results arrive as a list of every UID rather than ranges.");
  if (!has("BINARY"))
    notes.push("No BINARY: attachments are fetched encoded and decoded by the component.");
  if (!has("IDLE"))
    notes.push("No IDLE: waiting for mail means polling the mailbox every few seconds.");
  if (has("X-GM-EXT-1"))
    notes.push(
      "Gmail: labels are mailboxes, and deleting from a label only removes that label unless the message is moved to the Trash.",
    );
  return notes;
}

async function healthy(connection: Connection, context: SessionContext): Promise<Healthy> {
  return withSession(
    connection,
    context,
    async (session) => {
      const client = session.client;
      const started = process.hrtime.bigint();
      await session.exec({ doing: "measure the round trip" }, () => client.noop());
      const roundTripMs = Number(process.hrtime.bigint() - started) / 1e6;
      const list = await session.run({ doing: "list the mailboxes" }, () =>
        client.list({ listOnly: true }),
      );
      const specialUseMailboxes: Record<string, string> = {};
      for (const entry of list) {
        if (hasFlag(entry.flags, "\\Noselect")) continue;
        for (const use of SPECIAL_USES)
          if (hasFlag(entry.flags, use) || entry.specialUse === use)
            specialUseMailboxes[use] ??= entry.path;
      }
      const has = (capability: string) => session.has(capability);
      const id = client.serverInfo as Record<string, unknown> | null;
      return {
        ok: true as const,
        server: {
          host: session.scope.host,
          port: session.scope.port,
          encryption: session.scope.encryption,
          greeting: typeof client.greeting === "string" ? client.greeting : "",
          id: id
            ? Object.fromEntries(Object.entries(id).map(([key, value]) => [key, String(value)]))
            : null,
        },
        login: { user: session.scope.user, mechanism: mechanismOf(client) },
        tls: tlsOf(client),
        capabilities: Object.fromEntries(
          EXTENSIONS.map((name) => [name, has(name)]),
        ) as Healthy["capabilities"],
        authMechanisms: Array.from(authMechanisms(client).keys())
          .filter((name) => name !== "LOGIN")
          .sort(),
        specialUseMailboxes,
        roundTripMs: Math.round(roundTripMs * 10) / 10,
        notes: notesFor(has),
      };
      // Check Connection reports the server's ID and the mechanism a default login picks
    },
    { setup: "full" },
  );
}

/** Never throws for a failing server: the failure is the answer. */
export async function checkConnection(
  connection: Connection,
  context: SessionContext,
): Promise<Healthy | Unhealthy> {
  try {
    return await healthy(connection, context);
  } catch (err) {
    if (err instanceof InputError) {
      return {
        ok: false,
        stage: "settings",
        code: "INVALID_SETTINGS",
        message: err.message,
        fix: FIXES.INVALID_SETTINGS ?? "",
      };
    }
    const code: ImapErrorCode =
      err instanceof ImapError || err instanceof ImapConnectionError ? err.code : "UNEXPECTED";
    return {
      ok: false,
      stage: stageOf(code),
      code,
      message: err instanceof Error ? err.message : String(err),
      fix: FIXES[code] ?? "Read the message: it says what failed and where.",
    };
  }
}
