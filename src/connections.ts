/**
 * The connections, and the parsing of their fields. Spectral does not run `clean` on connection
 * inputs: every field arrives as the platform stores it (usually a string), so it is parsed and
 * validated here, before any network traffic.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { Connection } from "@prismatic-io/spectral";
import {
  isAllowedTokenUrl,
  parseCertificateCredential,
  parseServiceAccountKey,
} from "./credentials";
import type { AppOnly } from "./errors";
import { ImapConnectionError, InputError } from "./errors";
import { hasControlCharacters, parseBool } from "./inputs";
import { connection, OAuth2Type, oauth2Connection, templateConnectionInputs } from "./spectral";
import type { TokenGrant } from "./tokens";

export type Encryption = "tls" | "starttls" | "none";

export interface ImapSettings {
  host: string;
  port: number;
  encryption: Encryption;
  user: string;
  /** Exactly one of password, accessToken and grant is set. */
  password?: string;
  accessToken?: string;
  /** How the session gets its access token itself (certificate and service-account connections). */
  grant?: TokenGrant;
  /** App-only access (no user signed in): errors then name the provider's setup steps. */
  appOnly?: AppOnly;
  /** Values never to show (client secret, certificate, key file), besides password and token. */
  credentials: string[];
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
export const MICROSOFT_AUTHORITY = "https://login.microsoftonline.com";
export const MICROSOFT_APP_ONLY_SCOPE = "https://outlook.office365.com/.default";

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

const tenantInput = {
  label: "Tenant",
  type: "string",
  required: true,
  comments:
    "The customer's Directory (tenant) ID (a GUID, on the Overview page of Microsoft Entra ID) or one of its domains, e.g. contoso.onmicrosoft.com.",
  example: "contoso.onmicrosoft.com",
} as const;

const authorityInput = {
  label: "Authority",
  type: "string",
  required: true,
  default: MICROSOFT_AUTHORITY,
  comments:
    "Microsoft's sign-in host. Leave the default for the global cloud; national clouds: https://login.microsoftonline.us (US Government), https://login.partner.microsoftonline.cn (operated by 21Vianet).",
  example: MICROSOFT_AUTHORITY,
} as const;

const appOnlyScopesInput = {
  label: "Scopes",
  type: "string",
  required: true,
  default: MICROSOFT_APP_ONLY_SCOPE,
  comments:
    "Leave the default: it grants the application permissions (IMAP.AccessAsApp) that an administrator consented to. National clouds: https://outlook.office365.us/.default (US Government), https://partner.outlook.cn/.default (21Vianet).",
  example: MICROSOFT_APP_ONLY_SCOPE,
} as const;

const microsoftHostInput = {
  label: "Host",
  type: "string",
  required: true,
  default: "outlook.office365.com",
  comments:
    "outlook.office365.com for Microsoft 365 (outlook.office365.us for US Government, partner.outlook.cn for 21Vianet).",
  example: "outlook.office365.com",
} as const;

const mailboxAddressInput = {
  label: "Mailbox Address",
  type: "string",
  required: true,
  comments:
    "The address of the mailbox to open, e.g. a shared mailbox's own address (support@contoso.com). The app must have been given access to this mailbox (see the connection's documentation).",
  example: "support@contoso.com",
} as const;

const clientIdInput = {
  label: "Client ID",
  type: "string",
  required: true,
  comments:
    "The Application (client) ID on the app registration's Overview page (a GUID; not the Object ID, not a secret's ID).",
  example: "00000000-0000-0000-0000-000000000000",
} as const;

export const imapM365AppOnlyConnection = oauth2Connection({
  key: "imapM365AppOnly",
  display: {
    label: "Microsoft 365 App-Only (client secret)",
    description:
      "Open a Microsoft 365 mailbox (shared or service mailbox) as an application, with no user signing in: client credentials with a client secret; the platform gets the token.",
  },
  oauth2Type: OAuth2Type.ClientCredentials,
  inputs: templateConnectionInputs(
    {
      authority: authorityInput,
      tenant: tenantInput,
      clientId: { ...clientIdInput, shown: true },
      clientSecret: {
        label: "Client Secret",
        type: "password",
        required: true,
        shown: true,
        comments:
          "The secret's Value (shown once, when the secret is created under Certificates & secrets), not its Secret ID.",
      },
      scopes: { ...appOnlyScopesInput, shown: true },
      username: mailboxAddressInput,
      host: microsoftHostInput,
      port: portInput,
      encryption: encryptionInput,
      verifyCertificate: verifyCertificateInput,
      caCertificate: caCertificateInput,
    },
    {
      tokenUrl: {
        label: "Token URL",
        type: "template",
        templateValue: "{{#authority}}/{{#tenant}}/oauth2/v2.0/token",
      },
    },
    OAuth2Type.ClientCredentials,
  ),
});

export const imapM365CertificateConnection = connection({
  key: "imapM365Certificate",
  display: {
    label: "Microsoft 365 App-Only (certificate)",
    description:
      "Open a Microsoft 365 mailbox (shared or service mailbox) as an application, with no user signing in: client credentials signed with the app's certificate, which Microsoft recommends over secrets.",
  },
  inputs: {
    authority: authorityInput,
    tenant: tenantInput,
    clientId: clientIdInput,
    certificate: {
      label: "Certificate",
      type: "text",
      required: true,
      comments:
        "PEM text of the unencrypted private key followed by its certificate (the certificate whose public part is uploaded to the app registration under Certificates & secrets). Kept secret: never shown in logs or errors.",
      example:
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----",
    },
    scopes: appOnlyScopesInput,
    username: mailboxAddressInput,
    host: microsoftHostInput,
    port: portInput,
    encryption: encryptionInput,
    verifyCertificate: verifyCertificateInput,
    caCertificate: caCertificateInput,
  },
});

export const imapGoogleServiceAccountConnection = connection({
  key: "imapGoogleServiceAccount",
  display: {
    label: "Google Workspace Service Account",
    description:
      "Open a Google Workspace user's Gmail mailbox with a service account and domain-wide delegation, with no user signing in.",
  },
  inputs: {
    serviceAccountKey: {
      label: "Service Account Key",
      type: "text",
      required: true,
      comments:
        "The whole JSON key file of the service account (it contains type, client_email, private_key and token_uri). Kept secret: never shown in logs or errors.",
      example:
        '{"type": "service_account", "client_email": "imap@project.iam.gserviceaccount.com", ...}',
    },
    username: {
      label: "Mailbox Address",
      type: "string",
      required: true,
      comments:
        "The primary address of the Workspace user whose mailbox is opened (the service account acts as this user).",
      example: "orders@example.com",
    },
    host: {
      label: "Host",
      type: "string",
      required: true,
      default: "imap.gmail.com",
      comments: "imap.gmail.com for Gmail.",
      example: "imap.gmail.com",
    },
    port: portInput,
    encryption: encryptionInput,
    verifyCertificate: verifyCertificateInput,
    caCertificate: caCertificateInput,
  },
});

export const GOOGLE_MAIL_SCOPE = "https://mail.google.com/";

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

/** The text of a secret field as it was entered (PEM and JSON keep their line breaks). */
function secretText(value: unknown): string {
  return typeof value === "string" ? value : text(value);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export function parseTenant(value: unknown): string {
  const tenant = text(value);
  if (tenant === "") {
    throw new InputError(
      "The connection's tenant is empty. Enter the customer's Directory (tenant) ID (Microsoft Entra ID > Overview) or one of its domains, e.g. contoso.onmicrosoft.com.",
    );
  }
  if (["common", "organizations", "consumers"].includes(tenant.toLowerCase())) {
    throw new InputError(
      `The connection's tenant "${tenant}" names no tenant: app-only access needs the customer's own Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com.`,
    );
  }
  if (!GUID.test(tenant) && !DOMAIN.test(tenant)) {
    throw new InputError(
      `The connection's tenant "${tenant}" is neither a Directory (tenant) ID (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47) nor a domain such as contoso.onmicrosoft.com.`,
    );
  }
  return tenant;
}

export function parseClientId(value: unknown): string {
  const clientId = text(value);
  if (!GUID.test(clientId)) {
    throw new InputError(
      `The connection's client ID ${clientId === "" ? "is empty" : `"${clientId}" is not a GUID`}. Enter the Application (client) ID from the app registration's Overview page.`,
    );
  }
  return clientId;
}

/** The sign-in host as an origin (https, or http on this machine), without a trailing slash. */
export function parseAuthority(value: unknown): string {
  const raw = text(value) || MICROSOFT_AUTHORITY;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(
      `The connection's authority "${raw}" is not a URL. Leave the default, ${MICROSOFT_AUTHORITY}, or enter a national cloud's sign-in host.`,
    );
  }
  if (!isAllowedTokenUrl(url) || (url.pathname !== "/" && url.pathname !== "") || url.search) {
    throw new InputError(
      `The connection's authority "${raw}" must be an https address without a path, e.g. ${MICROSOFT_AUTHORITY}.`,
    );
  }
  return url.origin;
}

function parseAppOnlyScope(value: unknown): string {
  const scope = text(value) || MICROSOFT_APP_ONLY_SCOPE;
  if (!/^\S+\/\.default$/.test(scope)) {
    throw new InputError(
      `The connection's scopes "${scope}" are not an app-only scope: use ${MICROSOFT_APP_ONLY_SCOPE} (application permissions are requested as <resource>/.default).`,
    );
  }
  return scope;
}

/** The tenant's token endpoint, as the imapM365AppOnly connection's Token URL template builds it. */
export function microsoftTokenUrl(authority: string, tenant: string): string {
  return `${authority}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
}

/** The platform's token of an OAuth connection; a missing one is the connection's fault, not the step's. */
function platformToken(conn: Connection, missing: string): string {
  const token = conn.token?.access_token;
  if (typeof token !== "string" || token.trim() === "") {
    throw new ImapConnectionError(redactedConnection(conn), missing, "NOT_AUTHORIZED");
  }
  // a control character would end the SASL field early; imapflow would refuse it with an opaque error
  if (hasControlCharacters(token)) {
    throw new ImapConnectionError(
      redactedConnection(conn),
      "The OAuth 2.0 connection's access token contains control characters: re-authorise the connection.",
      "NOT_AUTHORIZED",
    );
  }
  return token;
}

/** How a connection authenticates, once its fields are checked. */
type Authentication = Pick<ImapSettings, "password" | "accessToken" | "grant" | "appOnly"> & {
  credentials: string[];
};

function authentication(conn: Connection, user: string): Authentication {
  const fields = conn.fields;
  switch (conn.key) {
    case imapOAuth2Connection.key:
      return {
        accessToken: platformToken(
          conn,
          "The OAuth 2.0 connection has no access token: authorise the connection first.",
        ),
        credentials: [secretText(fields.clientSecret)],
      };
    case imapM365AppOnlyConnection.key: {
      const clientSecret = secretText(fields.clientSecret);
      const token = conn.token?.access_token;
      const appOnly = {
        provider: "microsoft365" as const,
        clientId: text(fields.clientId),
        tenant: text(fields.tenant),
      };
      if (typeof token === "string" && token.trim() !== "") {
        return { accessToken: platformToken(conn, ""), appOnly, credentials: [clientSecret] };
      }
      // No token from the platform: ask Microsoft the same way, so the error names the cause.
      const tenant = parseTenant(fields.tenant);
      const clientId = parseClientId(fields.clientId);
      if (clientSecret === "") {
        throw new InputError(
          "The connection's client secret is empty. Enter the Value of a client secret of the app registration (Certificates & secrets).",
        );
      }
      return {
        grant: {
          kind: "clientSecret",
          tokenUrl: microsoftTokenUrl(parseAuthority(fields.authority), tenant),
          clientId,
          subject: "",
          scope: parseAppOnlyScope(fields.scopes),
          clientSecret,
          fingerprint: createHash("sha256").update(clientSecret).digest("hex"),
        },
        appOnly: { provider: "microsoft365", clientId, tenant },
        credentials: [clientSecret],
      };
    }
    case imapM365CertificateConnection.key: {
      const tenant = parseTenant(fields.tenant);
      const clientId = parseClientId(fields.clientId);
      const authority = parseAuthority(fields.authority);
      const scope = parseAppOnlyScope(fields.scopes);
      const pem = secretText(fields.certificate);
      const credential = parseCertificateCredential(pem);
      return {
        grant: {
          kind: "clientAssertion",
          tokenUrl: microsoftTokenUrl(authority, tenant),
          clientId,
          subject: "",
          scope,
          key: credential.key,
          fingerprint: credential.fingerprint,
          thumbprint: credential.thumbprint,
        },
        appOnly: { provider: "microsoft365", clientId, tenant },
        credentials: [pem],
      };
    }
    case imapGoogleServiceAccountConnection.key: {
      const json = secretText(fields.serviceAccountKey);
      const credential = parseServiceAccountKey(json);
      return {
        grant: {
          kind: "jwtBearer",
          tokenUrl: credential.tokenUri,
          clientId: credential.clientEmail,
          subject: user,
          scope: GOOGLE_MAIL_SCOPE,
          key: credential.key,
          fingerprint: credential.fingerprint,
          keyId: credential.keyId,
        },
        appOnly: {
          provider: "google",
          clientId: credential.clientId ?? credential.clientEmail,
          serviceAccount: credential.clientEmail,
        },
        credentials: [json, credential.privateKeyPem],
      };
    }
    default: {
      const password = secretText(fields.password);
      if (password === "") throw new InputError("The connection's password is empty.");
      return { password, credentials: [] };
    }
  }
}

/**
 * Validated settings of any of the connections. Throws InputError before anything is sent; an
 * OAuth connection without its token is an ImapConnectionError (the connection needs fixing).
 */
export function parseConnection(conn: Connection | undefined): ImapSettings {
  if (!conn || typeof conn !== "object" || !conn.fields) {
    throw new InputError("No connection was given: choose an IMAP connection for this step.");
  }
  const fields = conn.fields;
  const encryption = parseEncryption(fields.encryption);
  const user = text(fields.username);
  if (user === "") throw new InputError("The connection's username is empty.");
  return {
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
    ...authentication(conn, user),
  };
}

/** Fields that hold a secret, whichever connection has them. */
const SECRET_FIELDS = ["password", "clientSecret", "certificate", "serviceAccountKey"];

/** The connection without its password and token, safe to attach to an error. */
export function redactedConnection(conn: Connection): Connection {
  const fields: Record<string, unknown> = { ...conn.fields };
  for (const key of SECRET_FIELDS) if (key in fields) fields[key] = "[redacted]";
  return { key: conn.key, configVarKey: conn.configVarKey, fields };
}
