/**
 * The app-only connections end to end: imapM365AppOnly (client secret), imapM365Certificate
 * (certificate-signed client assertion) and imapGoogleServiceAccount (JWT bearer grant). The
 * token endpoint of test/tokenEndpoint.ts answers as Microsoft and Google do; the test Dovecot
 * accepts exactly the tokens it issued, for their mailbox (through test/introspection.ts).
 * Nothing of IMAP is mocked.
 */
import https from "node:https";
import net from "node:net";
import { inspect } from "node:util";
import type { Connection } from "@prismatic-io/spectral";
import { createConnection } from "@prismatic-io/spectral/dist/testing";
import {
  imapGoogleServiceAccountConnection,
  imapM365AppOnlyConnection,
  imapM365CertificateConnection,
} from "../src/connections";
import { ImapConnectionError, ImapError } from "../src/errors";
import { sessionLimits } from "../src/session";
import { clearTokenCache, RENEW_BEFORE_MS, tokenClock } from "../src/tokens";
import type { Fields } from "./helpers";
import {
  failure,
  flagsByUid,
  harness,
  leaks,
  openResources,
  resourcesAfter,
  rfc822,
  seedMailbox,
  server,
  withDirect,
} from "./helpers";
import type { Introspection } from "./introspection";
import { holdIntrospectionPort, startIntrospection } from "./introspection";
import { rewriteProxy } from "./rewriteProxy";
import type { TestCertificate, TestServiceAccount } from "./testKeys";
import { testCertificate, testServiceAccount } from "./testKeys";
import type { ServiceAccount, TokenEndpoint } from "./tokenEndpoint";
import { APP_ONLY_SCOPE, startTokenEndpoint } from "./tokenEndpoint";

/** The shared mailbox the apps were given FullAccess to, and one they were not. */
const MAILBOX = "test33";
const NOT_GRANTED = "test35";
/** The Workspace user the service account may act as, and an address outside the domain. */
const GOOGLE_USER = "test34";
const OUTSIDER = "test36";

const TENANT = "contoso.onmicrosoft.com";
const SECRET_APP = "11111111-2222-4333-8444-555555555555";
const CERT_APP = "66666666-7777-4888-9999-000000000000";
const UNKNOWN_APP = "99999999-9999-4999-8999-999999999999";
const SECRET = "Qx8~secret.Value-0123456789abcdefABCDEF";
const EXPIRED_SECRET = "Zz9~expired.Value-0123456789abcdefABCDEF";
const where = `127.0.0.1:${server.tlsPort}`;

let introspection: Introspection;
let endpoint: TokenEndpoint;
let releasePort: () => void = () => undefined;
let certificate: TestCertificate;
let otherCertificate: TestCertificate;
let delegated: TestServiceAccount;
let undelegated: TestServiceAccount;
const active: Record<string, string> = {};
const serviceAccounts: ServiceAccount[] = [];

beforeAll(async () => {
  certificate = testCertificate();
  otherCertificate = testCertificate();
  releasePort = await holdIntrospectionPort();
  introspection = await startIntrospection(active);
  endpoint = await startTokenEndpoint({
    active,
    tenant: TENANT,
    apps: [
      { clientId: SECRET_APP, secret: SECRET, expiredSecret: EXPIRED_SECRET, mailbox: MAILBOX },
      { clientId: CERT_APP, certificatePem: certificate.certificatePem, mailbox: MAILBOX },
    ],
    serviceAccounts,
    domainUsers: [GOOGLE_USER],
  });
  delegated = testServiceAccount(endpoint.googleTokenUri, "imap-reader");
  undelegated = testServiceAccount(endpoint.googleTokenUri, "no-delegation");
  // the endpoint reads its options at each request
  serviceAccounts.push(
    { clientEmail: delegated.clientEmail, publicKey: delegated.publicKey, delegated: true },
    { clientEmail: undelegated.clientEmail, publicKey: undelegated.publicKey, delegated: false },
  );
}, 600_000);

afterAll(async () => {
  await endpoint?.close();
  await introspection?.close();
  releasePort();
});

let before = openResources();
const limits = { ...sessionLimits };
beforeEach(() => {
  clearTokenCache();
  before = openResources();
});

afterEach(async () => {
  Object.assign(sessionLimits, limits);
  tokenClock.now = () => Date.now();
  endpoint.hold = undefined;
  endpoint.expiresIn = 3599;
  expect(await resourcesAfter(before)).toEqual(before);
});

const serverFields = (overrides: Fields): Fields => ({
  host: server.host,
  port: String(server.tlsPort),
  encryption: "tls",
  verifyCertificate: "true",
  caCertificate: server.ca,
  ...overrides,
});

/** imapM365AppOnly; with `platformToken` as the platform hands it over, else without a token. */
function secretConnection(
  user: string,
  overrides: Fields = {},
  platformToken?: string,
): Connection {
  const fields = serverFields({
    authority: endpoint.authority,
    tenant: TENANT,
    clientId: SECRET_APP,
    clientSecret: SECRET,
    scopes: APP_ONLY_SCOPE,
    username: user,
    tokenUrl: `${endpoint.authority}/${TENANT}/oauth2/v2.0/token`,
    ...overrides,
  });
  return createConnection(
    imapM365AppOnlyConnection,
    fields,
    platformToken
      ? { access_token: platformToken, token_type: "Bearer", expires_in: 3599 }
      : undefined,
  );
}

function certificateConnection(user: string, overrides: Fields = {}): Connection {
  return createConnection(
    imapM365CertificateConnection,
    serverFields({
      authority: endpoint.authority,
      tenant: TENANT,
      clientId: CERT_APP,
      certificate: certificate.pem,
      scopes: APP_ONLY_SCOPE,
      username: user,
      ...overrides,
    }),
  );
}

function googleConnection(user: string, overrides: Fields = {}): Connection {
  return createConnection(
    imapGoogleServiceAccountConnection,
    serverFields({ serviceAccountKey: delegated.json, username: user, ...overrides }),
  );
}

/** What the platform does for imapM365AppOnly: the client-credentials exchange with the secret. */
async function platformExchange(): Promise<string> {
  const response = await fetch(`${endpoint.authority}/${TENANT}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", connection: "close" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: SECRET_APP,
      client_secret: SECRET,
      scope: APP_ONLY_SCOPE,
    }).toString(),
  });
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

type Entry = { path: string };
type Polled = {
  resultType: string;
  payload: { body: { data: { messages: { uid: number; envelope: { subject: string } }[] } } };
};

/** A step logger that keeps every line, as the platform's log would. */
function recordingLogger() {
  const lines: string[] = [];
  const record = (...args: unknown[]) => {
    lines.push(
      args.map((arg) => (typeof arg === "string" ? arg : inspect(arg, { depth: 6 }))).join(" "),
    );
  };
  return {
    lines,
    logger: {
      metric: record,
      trace: record,
      debug: record,
      info: record,
      log: record,
      warn: record,
      error: record,
    },
  };
}

/** listMailboxes, addFlags (read back with a password login) and a New Emails poll, all through `connection`. */
async function listFlagAndPoll(user: string, connection: () => Connection): Promise<void> {
  const { path, uids } = await seedMailbox(user, { prefix: "AppOnly", count: 1 });
  const { data } = (await harness.action("listMailboxes", { connection: connection() })) as {
    data: Entry[];
  };
  const direct = await withDirect(user, (client) => client.list());
  expect(new Set(data.map((entry) => entry.path))).toEqual(
    new Set(direct.map((entry) => entry.path)),
  );
  expect(data.map((entry) => entry.path)).toContain(path);

  await harness.action("addFlags", {
    connection: connection(),
    mailbox: path,
    uids: String(uids[0]),
    flags: ["\\Flagged"],
  });
  expect(await flagsByUid(user, path)).toEqual({ [uids[0] as number]: ["\\Flagged"] });

  const instanceState: Record<string, unknown> = {};
  const poll = async () =>
    (await harness.trigger(
      "newEmails",
      undefined,
      { connection: connection(), mailbox: path },
      { instanceState },
    )) as unknown as Polled;
  expect((await poll()).resultType).toBe("polled_no_changes");
  const appended = await withDirect(user, (client) =>
    client.append(path, rfc822({ subject: "App-only poll" })),
  );
  const second = await poll();
  expect(second.resultType).toBe("completed");
  expect(
    second.payload.body.data.messages.map((message) => [message.uid, message.envelope.subject]),
  ).toEqual([[appended ? appended.uid : -1, "App-only poll"]]);
}

describe("each connection opens its mailbox: listMailboxes, an action and a trigger poll", () => {
  test("imapM365AppOnly with the token the platform got", async () => {
    const token = await platformExchange();
    const requests = endpoint.requests;
    await listFlagAndPoll(MAILBOX, () => secretConnection(MAILBOX, {}, token));
    // the platform's token is used as it is: the component asks for none
    expect(endpoint.requests).toBe(requests);
  });

  test("imapM365AppOnly without a platform token asks Microsoft itself with the secret, once", async () => {
    const requests = endpoint.requests;
    await listFlagAndPoll(MAILBOX, () => secretConnection(MAILBOX));
    expect(endpoint.requests).toBe(requests + 1);
  });

  test("imapM365Certificate signs its client assertion with the certificate, once", async () => {
    const requests = endpoint.requests;
    await listFlagAndPoll(MAILBOX, () => certificateConnection(MAILBOX));
    expect(endpoint.requests).toBe(requests + 1);
  });

  test("imapGoogleServiceAccount acts as the Workspace user, once", async () => {
    const requests = endpoint.requests;
    await listFlagAndPoll(GOOGLE_USER, () => googleConnection(GOOGLE_USER));
    expect(endpoint.requests).toBe(requests + 1);
  });
});

const minting: [string, () => Connection][] = [
  ["imapM365AppOnly (secret)", () => secretConnection(MAILBOX)],
  ["imapM365Certificate", () => certificateConnection(MAILBOX)],
  ["imapGoogleServiceAccount", () => googleConnection(GOOGLE_USER)],
];

describe("tokens the component gets itself", () => {
  test.each(minting)(
    "%s: concurrent invocations share one token request",
    async (_name, connection) => {
      let release: () => void = () => undefined;
      endpoint.hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      const requests = endpoint.requests;
      const issued = endpoint.issued.length;
      const runs = Array.from({ length: 6 }, () =>
        harness.action("getStatus", { connection: connection(), mailbox: "INBOX" }),
      );
      // every invocation is waiting for the one held answer
      while (endpoint.requests === requests)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      const results = (await Promise.all(runs)) as { data: { path: string } }[];
      expect(results.map((result) => result.data.path)).toEqual(Array(6).fill("INBOX"));
      expect(endpoint.requests).toBe(requests + 1);
      expect(endpoint.issued.length).toBe(issued + 1);
    },
  );

  test.each(minting)(
    "%s: a token is reused until five minutes before it expires, then renewed",
    async (_name, connection) => {
      const start = Date.now();
      tokenClock.now = () => start;
      const requests = endpoint.requests;
      const status = () =>
        harness.action("getStatus", { connection: connection(), mailbox: "INBOX" });
      await status();
      expect(endpoint.requests).toBe(requests + 1);
      // 3599 s: still more than five minutes left
      tokenClock.now = () => start + 3599_000 - RENEW_BEFORE_MS - 1000;
      await status();
      expect(endpoint.requests).toBe(requests + 1);
      // less than five minutes left: a new token, which the server accepts
      tokenClock.now = () => start + 3599_000 - RENEW_BEFORE_MS + 1000;
      const renewed = (await status()) as { data: { path: string } };
      expect(renewed.data.path).toBe("INBOX");
      expect(endpoint.requests).toBe(requests + 2);
      const [first, second] = endpoint.issued.slice(-2);
      expect(second).not.toBe(first);
    },
  );

  test("a token the IMAP server refused is not reused by the next invocation", async () => {
    const requests = endpoint.requests;
    await failure(() =>
      harness.action("listMailboxes", { connection: certificateConnection(NOT_GRANTED) }),
    );
    await harness.action("listMailboxes", { connection: certificateConnection(MAILBOX) });
    expect(endpoint.requests).toBe(requests + 2);
  });
});

/** The message for a Microsoft app-only login the mailbox refused, for `clientId` and `user`. */
const notGranted = (clientId: string, user: string) =>
  `Microsoft 365 (${where}) refused the app-only login of app ${clientId} to the mailbox "${user}". The app got its token, so its secret or certificate is fine; its access to this mailbox is not set up. The causes, most common first: (1) the Exchange service principal was created with the App Registration's Object ID instead of the Enterprise Application's: run Get-ServicePrincipal | Where-Object AppId -eq "${clientId}", and if its ObjectId is not the one under Enterprise applications, remove it and run New-ServicePrincipal -AppId ${clientId} -ObjectId <Object ID from Enterprise applications>; (2) the app has no permission on this mailbox: Add-MailboxPermission -Identity "${user}" -User <that service principal's ObjectId> -AccessRights FullAccess; (3) IMAP.AccessAsApp was added under Microsoft Graph instead of Office 365 Exchange Online (API permissions > Add a permission > APIs my organization uses > Office 365 Exchange Online > Application permissions), or admin consent was not granted for it; (4) IMAP is disabled for the mailbox: Set-CASMailbox -Identity "${user}" -ImapEnabled $true. Changes can take up to an hour to apply. The server said: [AUTHENTICATIONFAILED] Authentication failed.`;

describe("errors that name the missing setup step", () => {
  test.each([
    ["imapM365AppOnly", SECRET_APP, () => secretConnection(NOT_GRANTED)],
    ["imapM365Certificate", CERT_APP, () => certificateConnection(NOT_GRANTED)],
    [
      "imapM365AppOnly with the platform's token",
      SECRET_APP,
      () => secretConnection(NOT_GRANTED, {}, endpoint.issued.at(-1)),
    ],
  ])(
    "%s: a mailbox the app has no access to lists the causes, most common first",
    async (_name, clientId, connection) => {
      await harness.action("listMailboxes", { connection: secretConnection(MAILBOX) });
      const err = await failure(() =>
        harness.action("listMailboxes", { connection: connection() }),
      );
      expect(err).toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("MAILBOX_ACCESS_NOT_GRANTED");
      expect(err.message).toBe(notGranted(clientId, NOT_GRANTED));
    },
  );

  test("Microsoft's own refusal (XOAUTH2 only, a bare NO AUTHENTICATE failed) gets the same list of causes", async () => {
    // Microsoft 365 offers only XOAUTH2 and answers a refused app-only token without a response code
    const proxy = await rewriteProxy(
      { host: server.host, port: server.plainPort },
      {
        toClient: (line) =>
          line
            .replace(" AUTH=OAUTHBEARER", "")
            .replace(" COMPRESS=DEFLATE", "")
            .replace(
              /^(\S+) NO \[AUTHENTICATIONFAILED\] .*\r\n$/,
              "$1 NO AUTHENTICATE failed.\r\n",
            ),
      },
    );
    try {
      const err = await failure(() =>
        harness.action("listMailboxes", {
          connection: certificateConnection(NOT_GRANTED, {
            port: String(proxy.port),
            encryption: "none",
            caCertificate: "",
          }),
        }),
      );
      expect(err).toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("MAILBOX_ACCESS_NOT_GRANTED");
      expect(err.message).toBe(
        notGranted(CERT_APP, NOT_GRANTED)
          .replace(where, `127.0.0.1:${proxy.port}`)
          .replace("[AUTHENTICATIONFAILED] Authentication failed.", "AUTHENTICATE failed."),
      );
    } finally {
      await proxy.close();
    }
  });

  test("Microsoft's login that opens no mailbox (BAD User is authenticated but not connected) gets the same list of causes", async () => {
    // Microsoft 365 takes the login, then answers the first command with BAD and no code
    const commands = new Set<string>();
    const proxy = await rewriteProxy(
      { host: server.host, port: server.plainPort },
      {
        toServer: (line) => {
          const command = /^(\S+) (?:STATUS|LIST|SELECT|EXAMINE)\b/i.exec(line);
          if (command?.[1]) commands.add(command[1]);
          return line;
        },
        toClient: (line) => {
          const tagged = /^(\S+) OK /.exec(line);
          if (tagged?.[1] && commands.has(tagged[1]))
            return `${tagged[1]} BAD User is authenticated but not connected.\r\n`;
          return line.replace(" COMPRESS=DEFLATE", "");
        },
      },
    );
    try {
      const err = await failure(() =>
        harness.action("getStatus", {
          connection: certificateConnection(MAILBOX, {
            port: String(proxy.port),
            encryption: "none",
            caCertificate: "",
          }),
          mailbox: "INBOX",
        }),
      );
      expect(err).toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("MAILBOX_ACCESS_NOT_GRANTED");
      expect(err.message).toBe(
        notGranted(CERT_APP, MAILBOX)
          .replace(where, `127.0.0.1:${proxy.port}`)
          .replace(
            "[AUTHENTICATIONFAILED] Authentication failed.",
            "User is authenticated but not connected.",
          ),
      );
    } finally {
      await proxy.close();
    }
  });

  test.each([
    [
      "a wrong client secret",
      () => secretConnection(MAILBOX, { clientSecret: "Wrong~secret.Value-0123456789" }),
      "TOKEN_CLIENT_SECRET_INVALID",
      () =>
        `Microsoft rejected the client secret of app ${SECRET_APP} (AADSTS7000215). The Client Secret must be the secret's Value, not its Secret ID: in App registrations (Microsoft Entra admin center > Identity > Applications) > the app > Certificates & secrets, create a new client secret, copy its Value (shown only once) and save it in the connection. The token endpoint said: invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.`,
    ],
    [
      "an expired client secret",
      () => secretConnection(MAILBOX, { clientSecret: EXPIRED_SECRET }),
      "TOKEN_CLIENT_SECRET_EXPIRED",
      () =>
        `The client secret of app ${SECRET_APP} has expired (AADSTS7000222). In App registrations (Microsoft Entra admin center > Identity > Applications) > the app > Certificates & secrets, create a new client secret, save its Value in the connection, and note the new expiry date (or switch to the certificate connection). The token endpoint said: invalid_client: AADSTS7000222: The provided client secret keys for app '${SECRET_APP}' are expired.`,
    ],
    [
      "an app that is not in the tenant",
      () => secretConnection(MAILBOX, { clientId: UNKNOWN_APP }),
      "TOKEN_APP_NOT_IN_TENANT",
      () =>
        `Microsoft found no application with client ID ${UNKNOWN_APP} in tenant "${TENANT}" (AADSTS700016). Check the Client ID (the Application (client) ID on the app registration's Overview page). If the app is registered in another tenant, it must be multi-tenant, and an administrator of this tenant must grant it admin consent (https://login.microsoftonline.com/${TENANT}/adminconsent?client_id=${UNKNOWN_APP}), which adds it to their Enterprise applications. The token endpoint said: unauthorized_client: AADSTS700016: Application with identifier '${UNKNOWN_APP}' was not found in the directory '${TENANT}'.`,
    ],
    [
      "a tenant that does not exist",
      () => certificateConnection(MAILBOX, { tenant: "fabrikam.onmicrosoft.com" }),
      "TOKEN_TENANT_NOT_FOUND",
      () =>
        `Microsoft found no tenant "fabrikam.onmicrosoft.com" (AADSTS90002). Check the Tenant: the Directory (tenant) ID on the Overview page of Microsoft Entra ID, or one of the tenant's domains such as contoso.onmicrosoft.com; for a national cloud, also the Authority. The token endpoint said: invalid_request: AADSTS90002: Tenant 'fabrikam.onmicrosoft.com' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ],
    [
      "a certificate that is not uploaded to the app",
      () => certificateConnection(MAILBOX, { certificate: otherCertificate.pem }),
      "TOKEN_CERTIFICATE_UNKNOWN",
      () =>
        `Microsoft did not accept the certificate of app ${CERT_APP} (AADSTS700027): the certificate in the connection is not, or no longer, uploaded to this app registration. In App registrations (Microsoft Entra admin center > Identity > Applications) > the app > Certificates & secrets > Certificates, upload the certificate's public part (the -----BEGIN CERTIFICATE----- block saved as a .cer or .pem file). The token endpoint said: invalid_client: AADSTS700027: Client assertion failed signature validation.`,
    ],
    [
      "a service account without domain-wide delegation",
      () => googleConnection(GOOGLE_USER, { serviceAccountKey: undelegated.json }),
      "TOKEN_DELEGATION_MISSING",
      () =>
        `Google refused to let the service account no-delegation@test-project.iam.gserviceaccount.com act as "${GOOGLE_USER}" (unauthorized_client): domain-wide delegation is not granted to client ID ${undelegated.clientId} with the scope https://mail.google.com/. In the Google Admin console of that user's domain, open Security > Access and data control > API controls > Manage Domain Wide Delegation > Add new, enter client ID ${undelegated.clientId} and the scope https://mail.google.com/ exactly, and authorise. It usually applies within minutes. The token endpoint said: unauthorized_client: Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.`,
    ],
    [
      "a user outside the Workspace domain",
      () => googleConnection(OUTSIDER),
      "TOKEN_GRANT_INVALID",
      () =>
        `Google refused the token request of the service account imap-reader@test-project.iam.gserviceaccount.com for "${OUTSIDER}" (invalid_grant). Either "${OUTSIDER}" is not an active user of the Workspace domain that granted the delegation (the Mailbox Address must be the user's primary address, not a group, an alias or a consumer Gmail account), or this machine's clock is more than a few minutes off; or the key was deleted from the service account. The token endpoint said: invalid_grant: Invalid email or User ID`,
    ],
  ])("%s", async (_name, connection, code, message) => {
    const err = await failure(() => harness.action("listMailboxes", { connection: connection() }));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message());
  });

  test("a token endpoint that does not answer is bounded, and a temporary error, not a call to re-authorise", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    sessionLimits.greetingMs = 400;
    try {
      const started = Date.now();
      const err = await failure(() =>
        harness.action("listMailboxes", {
          connection: certificateConnection(MAILBOX, { authority: `http://127.0.0.1:${port}` }),
        }),
      );
      expect(Date.now() - started).toBeLessThan(3000);
      expect(err).toBeInstanceOf(ImapError);
      expect(err).not.toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("TOKEN_ENDPOINT_UNAVAILABLE");
      expect(err.message).toBe(
        `Could not get an access token from http://127.0.0.1:${port}/${TENANT}/oauth2/v2.0/token: it did not answer within 0.4 s. This is temporary, not a problem of the connection's settings: retry the step later. Nothing was sent to the IMAP server.`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test("a token endpoint that is down is a temporary error", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(() =>
      harness.action("listMailboxes", {
        connection: googleConnection(GOOGLE_USER, {
          serviceAccountKey: delegated.json.replace(
            endpoint.googleTokenUri,
            `http://127.0.0.1:${port}/google/token`,
          ),
        }),
      }),
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err.code).toBe("TOKEN_ENDPOINT_UNAVAILABLE");
    expect(err.message).toBe(
      `Could not get an access token from http://127.0.0.1:${port}/google/token: the request failed (ECONNREFUSED). This is temporary, not a problem of the connection's settings: retry the step later. Nothing was sent to the IMAP server.`,
    );
  });

  test("a token endpoint whose TLS certificate is not trusted gets nothing: verification is on", async () => {
    const untrusted = testCertificate();
    let asked = 0;
    const tlsEndpoint = https.createServer(
      { key: untrusted.privateKeyPem, cert: untrusted.certificatePem },
      (_req, res) => {
        asked += 1;
        res.writeHead(500).end();
      },
    );
    await new Promise<void>((resolve) => tlsEndpoint.listen(0, "127.0.0.1", resolve));
    const port = (tlsEndpoint.address() as net.AddressInfo).port;
    try {
      const err = await failure(() =>
        harness.action("listMailboxes", {
          connection: certificateConnection(MAILBOX, { authority: `https://127.0.0.1:${port}` }),
        }),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect(err.code).toBe("TOKEN_ENDPOINT_UNAVAILABLE");
      expect(err.message).toBe(
        `Could not get an access token from https://127.0.0.1:${port}/${TENANT}/oauth2/v2.0/token: its TLS certificate was rejected (DEPTH_ZERO_SELF_SIGNED_CERT), so nothing was sent to it. A proxy or firewall between here and the endpoint may be intercepting TLS; the connection's CA Certificate applies to the IMAP server only.`,
      );
      expect(asked).toBe(0);
    } finally {
      tlsEndpoint.closeAllConnections();
      await new Promise((resolve) => tlsEndpoint.close(resolve));
    }
  });

  test("a session Microsoft ends because the token expired says so", async () => {
    // Microsoft ends a session whose token lapses with this BYE; the test server cannot
    const proxy = await rewriteProxy(
      { host: server.host, port: server.plainPort },
      {
        // without COMPRESS offered, the lines stay readable to the proxy
        toClient: (line) =>
          /^\* LIST /.test(line)
            ? "* BYE Session invalidated - AccessTokenExpired\r\n"
            : line.replace(" COMPRESS=DEFLATE", ""),
      },
    );
    try {
      const err = await failure(() =>
        harness.action("listMailboxes", {
          connection: certificateConnection(MAILBOX, {
            port: String(proxy.port),
            encryption: "none",
            caCertificate: "",
          }),
        }),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect(err).not.toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("TOKEN_EXPIRED");
      expect(err.message).toBe(
        `The access token for "${MAILBOX}" expired during the step: 127.0.0.1:${proxy.port} ended the session while trying to list the mailboxes. Retry the step; it starts with a new token. If it recurs, the step runs longer than a token lives (about an hour): split the work into smaller steps. The server said: Session invalidated - AccessTokenExpired`,
      );
    } finally {
      await proxy.close();
    }
  });
});

describe("no secret, key or token is shown", () => {
  test("neither debug logs nor errors of any connection show a secret, a key or a token", async () => {
    const { lines, logger } = recordingLogger();
    const context = { logger, globalDebug: true };
    const issuedBefore = endpoint.issued.length;
    const outputs: unknown[] = [];
    for (const connection of [
      secretConnection(MAILBOX),
      certificateConnection(MAILBOX),
      googleConnection(GOOGLE_USER),
    ]) {
      outputs.push(await harness.action("getStatus", { connection, mailbox: "INBOX" }, context));
      outputs.push(await harness.action("listMailboxes", { connection }, context));
    }
    const failures = await Promise.all(
      [
        secretConnection(NOT_GRANTED),
        secretConnection(MAILBOX, { clientSecret: EXPIRED_SECRET }),
        certificateConnection(NOT_GRANTED),
        certificateConnection(MAILBOX, { certificate: otherCertificate.pem }),
        googleConnection(OUTSIDER),
        googleConnection(GOOGLE_USER, { serviceAccountKey: undelegated.json }),
      ].map((connection) =>
        failure(() => harness.action("getStatus", { connection, mailbox: "INBOX" }, context)),
      ),
    );
    const tokens = endpoint.issued.slice(issuedBefore);
    // one per app: the refused logins used the tokens the successful ones got
    expect(tokens.length).toBe(3);
    const log = lines.join("\n");
    // debug mode really logged the sessions, the authentication included
    expect(
      lines.filter((line) => /AUTHENTICATE (OAUTHBEARER|XOAUTH2) /.test(line)).length,
    ).toBeGreaterThanOrEqual(5);
    const shown = [
      log,
      JSON.stringify(outputs),
      ...failures.flatMap((err) => [
        err.message,
        JSON.stringify(err),
        inspect(err, { depth: 8 }),
        String(err.stack),
      ]),
    ].join("\n");
    expect(shown).toContain('"certificate":"[redacted]"');
    expect(shown).toContain('"serviceAccountKey":"[redacted]"');
    const secrets = [
      SECRET,
      EXPIRED_SECRET,
      ...tokens,
      delegated.json,
      undelegated.json,
      // the base64 body of each private key, line by line
      ...[certificate, otherCertificate, delegated, undelegated].flatMap((key) =>
        key.privateKeyPem.split("\n").filter((line) => line.length > 40),
      ),
    ];
    for (const secret of secrets) expect(leaks(shown, secret)).toEqual([]);
  });
});
