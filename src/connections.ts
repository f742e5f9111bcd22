/**
 * The connections, and the parsing of their fields. Spectral does not run `clean` on connection
 * inputs: every field arrives as the platform stores it (usually a string), so it is parsed and
 * validated here, before any network traffic.
 */
import { X509Certificate } from "node:crypto";
import type { Connection } from "@prismatic-io/spectral";
import { connection, OAuth2Type, oauth2Connection } from "@prismatic-io/spectral";
import { InputError } from "./errors";
import { hasControlCharacters, parseBool } from "./inputs";

export type Encryption = "tls" | "starttls" | "none";

export interface ImapSettings {
  host: string;
  port: number;
  encryption: Encryption;
  user: string;
  /** Exactly one of password and accessToken is set. */
  password?: string;
  accessToken?: string;
  verifyCertificate: boolean;
  caCertificate?: string;
}

const encryptionInput = {
  label: "Encryption",
  type: "string",
  model: [
    { label: "TLS (implicit TLS, usually port 993)", value: "tls" },
    { label: "STARTTLS (required; usually port 143)", value: "starttls" },
    { label: "None (cleartext: unsafe, password and mail readable on the network)", value: "none" },
  ],
  default: "tls",
  required: true,
  comments:
    "tls: encrypted from the first byte. starttls: connects in cleartext and must upgrade with STARTTLS before logging in; fails if the server does not offer it. none: no encryption at all; use only on a trusted network.",
} as const;

const portInput = {
  label: "Port",
  type: "string",
  default: "993",
  required: true,
  comments: "993 for implicit TLS, 143 for STARTTLS or cleartext.",
  example: "993",
} as const;

const verifyCertificateInput = {
  label: "Verify Certificate",
  type: "boolean",
  required: false,
  default: "true",
  comments:
    "Verify the server's TLS certificate and host name. Leave on. For a server with a private or self-signed certificate, paste its CA certificate below instead of turning this off: turning it off lets anyone on the network read the password and the mail.",
} as const;

const caCertificateInput = {
  label: "CA Certificate",
  type: "text",
  required: false,
  comments:
    "Optional. PEM text of a certificate authority to trust for this server (for servers with a private or self-signed certificate). Verification stays on.",
  example: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----",
} as const;

export const imapConnection = connection({
  key: "imap",
  display: {
    label: "IMAP",
    description: "Log in to an IMAP server with a username and password.",
  },
  inputs: {
    host: {
      label: "Host",
      type: "string",
      required: true,
      comments: "Host name of the IMAP server.",
      example: "imap.example.com",
    },
    port: portInput,
    encryption: encryptionInput,
    username: {
      label: "Username",
      type: "string",
      required: true,
      comments: "Usually the full email address.",
      example: "someone@example.com",
    },
    password: {
      label: "Password",
      type: "password",
      required: true,
      comments: "The account's password, or an app password where the provider requires one.",
    },
    verifyCertificate: verifyCertificateInput,
    caCertificate: caCertificateInput,
  },
});

export const MICROSOFT_AUTHORIZE_URL =
  "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
export const MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
export const MICROSOFT_SCOPES = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access";

export const imapOAuth2Connection = oauth2Connection({
  key: "imapOAuth2",
  display: {
    label: "IMAP (OAuth 2.0)",
    description: "Log in to an IMAP server with an OAuth 2.0 access token (Microsoft 365, Gmail).",
  },
  oauth2Type: OAuth2Type.AuthorizationCode,
  inputs: {
    host: {
      label: "Host",
      type: "string",
      required: true,
      default: "outlook.office365.com",
      comments: "outlook.office365.com for Microsoft 365, imap.gmail.com for Gmail.",
      example: "outlook.office365.com",
    },
    port: portInput,
    encryption: encryptionInput,
    username: {
      label: "Username",
      type: "string",
      required: true,
      comments:
        "The address of the mailbox to open. For a Microsoft 365 shared mailbox, the shared mailbox's address.",
      example: "someone@example.com",
    },
    verifyCertificate: verifyCertificateInput,
    caCertificate: caCertificateInput,
    authorizeUrl: {
      label: "Authorize URL",
      type: "string",
      required: true,
      shown: true,
      default: MICROSOFT_AUTHORIZE_URL,
      comments:
        "Microsoft 365: the default (for an app registered for your organization only, replace common with your Directory (tenant) ID). Gmail: https://accounts.google.com/o/oauth2/v2/auth?access_type=offline&prompt=consent",
    },
    tokenUrl: {
      label: "Token URL",
      type: "string",
      required: true,
      shown: true,
      default: MICROSOFT_TOKEN_URL,
      comments:
        "Microsoft 365: the default (with the same tenant ID as the Authorize URL, if you replaced common there). Gmail: https://oauth2.googleapis.com/token",
    },
    scopes: {
      label: "Scopes",
      type: "string",
      required: true,
      shown: true,
      default: MICROSOFT_SCOPES,
      comments:
        "Space-separated. Microsoft 365: the default (offline_access lets the platform refresh the token). Gmail: https://mail.google.com/",
    },
    clientId: {
      label: "Client ID",
      type: "string",
      required: true,
      shown: true,
      comments: "The application (client) ID of your app registration.",
    },
    clientSecret: {
      label: "Client Secret",
      type: "password",
      required: true,
      shown: true,
      comments: "A client secret of your app registration.",
    },
  },
});

function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new InputError(`Expected text, got ${typeof value}.`);
}

export function parsePort(value: unknown, encryption: Encryption): number {
  const raw = text(value);
  if (raw === "") return encryption === "tls" ? 993 : 143;
  if (!/^\d+$/.test(raw)) {
    throw new InputError(
      `The connection's port "${raw}" is not a number. Use a port number such as 993 (implicit TLS) or 143 (STARTTLS).`,
    );
  }
  const port = Number(raw);
  if (port < 1 || port > 65535) {
    throw new InputError(
      `The connection's port ${port} is out of range: use a number from 1 to 65535 (usually 993 or 143).`,
    );
  }
  return port;
}

export function parseEncryption(value: unknown): Encryption {
  const raw = text(value).toLowerCase();
  if (raw === "") return "tls";
  if (raw === "tls" || raw === "starttls" || raw === "none") return raw;
  throw new InputError(`The connection's encryption "${raw}" is not one of tls, starttls or none.`);
}

export function parseHost(value: unknown): string {
  const host = text(value);
  if (host === "")
    throw new InputError(
      "The connection's host is empty. Enter the IMAP server's host name, e.g. imap.example.com.",
    );
  if (/[\s/]|:\/\//.test(host)) {
    throw new InputError(
      `The connection's host "${host}" is not a host name: enter only the name (e.g. imap.example.com), without a scheme, path or spaces.`,
    );
  }
  return host;
}

function parseCa(value: unknown): string | undefined {
  const pem = text(value);
  if (pem === "") return undefined;
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new InputError(
      'The connection\'s CA certificate is not PEM text: it must contain "-----BEGIN CERTIFICATE-----".',
    );
  }
  // Node skips certificates it cannot parse without a word: check each one here instead.
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      const which = blocks.length > 1 ? ` (certificate ${index + 1} of ${blocks.length})` : "";
      throw new InputError(
        `The connection's CA certificate could not be read${which}: ${err instanceof Error ? err.message : String(err)}. Paste the whole certificate, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.`,
      );
    }
  });
  if (blocks.length === 0)
    throw new InputError(
      "The connection's CA certificate has no -----END CERTIFICATE----- line: paste the whole certificate.",
    );
  return pem;
}

/** Validated settings of either connection. Throws InputError before anything is sent. */
export function parseConnection(conn: Connection | undefined): ImapSettings {
  if (!conn || typeof conn !== "object" || !conn.fields) {
    throw new InputError("No connection was given: choose an IMAP connection for this step.");
  }
  const fields = conn.fields;
  const encryption = parseEncryption(fields.encryption);
  const user = text(fields.username);
  if (user === "") throw new InputError("The connection's username is empty.");
  const settings: ImapSettings = {
    host: parseHost(fields.host),
    port: parsePort(fields.port, encryption),
    encryption,
    user,
    verifyCertificate: parseBool(
      fields.verifyCertificate,
      "The connection's Verify Certificate",
      true,
    ),
    caCertificate: parseCa(fields.caCertificate),
  };
  if (conn.key === imapOAuth2Connection.key) {
    const token = conn.token?.access_token;
    if (typeof token !== "string" || token.trim() === "") {
      throw new InputError(
        "The OAuth 2.0 connection has no access token: authorise the connection first.",
      );
    }
    // a control character would end the SASL field early; imapflow would refuse it with an opaque error
    if (hasControlCharacters(token)) {
      throw new InputError(
        "The OAuth 2.0 connection's access token contains control characters: re-authorise the connection.",
      );
    }
    settings.accessToken = token;
  } else {
    const password = typeof fields.password === "string" ? fields.password : text(fields.password);
    if (password === "") throw new InputError("The connection's password is empty.");
    settings.password = password;
  }
  return settings;
}

/** The connection without its password and token, safe to attach to an error. */
export function redactedConnection(conn: Connection): Connection {
  const fields: Record<string, unknown> = { ...conn.fields };
  for (const key of ["password", "clientSecret"]) if (key in fields) fields[key] = "[redacted]";
  return { key: conn.key, configVarKey: conn.configVarKey, fields };
}
