import { createConnection } from "@prismatic-io/spectral/dist/testing";
import { server } from "../test/helpers";
import { testCertificate, testServiceAccount } from "../test/testKeys";
import {
  imapConnection,
  imapGoogleServiceAccountConnection,
  imapM365AppOnlyConnection,
  imapM365CertificateConnection,
  imapOAuth2Connection,
  parseConnection,
  redactedConnection,
} from "./connections";
import { ImapConnectionError, InputError } from "./errors";

// The local test server's CA: a real certificate, as the parser checks each one.
const PEM = server.ca.trim();

function password(fields: Record<string, unknown> = {}) {
  return createConnection(imapConnection, {
    host: "imap.example.com",
    port: "993",
    encryption: "tls",
    username: "someone@example.com",
    password: "s3cret",
    verifyCertificate: "true",
    caCertificate: "",
    ...fields,
  });
}

/** `token: null`: a connection that was never authorised, so the platform gives it no token. */
function oauth(
  fields: Record<string, unknown> = {},
  token: Record<string, unknown> | null = { access_token: "eyJ0eXAi.token" },
) {
  return createConnection(
    imapOAuth2Connection,
    {
      host: "outlook.office365.com",
      port: "993",
      encryption: "tls",
      username: "shared@example.com",
      verifyCertificate: "true",
      caCertificate: "",
      authorizeUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
      tokenUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
      scopes: "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
      clientId: "client-id",
      clientSecret: "client-secret",
      ...fields,
    },
    token ?? undefined,
  );
}

function connectionError(work: () => unknown): ImapConnectionError {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(ImapConnectionError);
    return err as ImapConnectionError;
  }
  throw new Error("expected an ImapConnectionError");
}

function inputError(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("parseConnection (imap)", () => {
  test("a complete connection becomes its settings", () => {
    expect(parseConnection(password())).toEqual({
      host: "imap.example.com",
      port: 993,
      encryption: "tls",
      user: "someone@example.com",
      password: "s3cret",
      verifyCertificate: true,
      caCertificate: undefined,
      credentials: [],
    });
  });

  test.each([
    ["993", "tls", 993],
    [993, "tls", 993],
    [" 143 ", "starttls", 143],
    ["", "tls", 993],
    ["", "starttls", 143],
    ["", "none", 143],
    [undefined, "tls", 993],
    ["65535", "tls", 65535],
  ])("port %j with encryption %s is %d", (port, encryption, expected) => {
    expect(parseConnection(password({ port, encryption })).port).toBe(expected);
  });

  test.each([
    [
      "abc",
      'The connection\'s port "abc" is not a number. Use a port number such as 993 (implicit TLS) or 143 (STARTTLS).',
    ],
    [
      "99.3",
      'The connection\'s port "99.3" is not a number. Use a port number such as 993 (implicit TLS) or 143 (STARTTLS).',
    ],
    [
      "-1",
      'The connection\'s port "-1" is not a number. Use a port number such as 993 (implicit TLS) or 143 (STARTTLS).',
    ],
    [
      "70000",
      "The connection's port 70000 is out of range: use a number from 1 to 65535 (usually 993 or 143).",
    ],
    [
      "0",
      "The connection's port 0 is out of range: use a number from 1 to 65535 (usually 993 or 143).",
    ],
  ])("port %j is refused", (port, message) => {
    expect(inputError(() => parseConnection(password({ port })))).toBe(message);
  });

  test.each([
    ["tls", "tls"],
    ["STARTTLS", "starttls"],
    [" none ", "none"],
    ["", "tls"],
    [undefined, "tls"],
  ])("encryption %j is %s", (encryption, expected) => {
    expect(parseConnection(password({ encryption, port: "" })).encryption).toBe(expected);
  });

  test("an unknown encryption is refused", () => {
    expect(inputError(() => parseConnection(password({ encryption: "ssl" })))).toBe(
      'The connection\'s encryption "ssl" is not one of tls, starttls or none.',
    );
  });

  test.each([
    ["true", true],
    ["false", false],
    [true, true],
    [false, false],
    ["", true],
    [undefined, true],
  ])("verifyCertificate %j is %s", (verifyCertificate, expected) => {
    expect(parseConnection(password({ verifyCertificate })).verifyCertificate).toBe(expected);
  });

  test("a verifyCertificate that is not a boolean is refused", () => {
    expect(inputError(() => parseConnection(password({ verifyCertificate: "maybe" })))).toBe(
      'The connection\'s Verify Certificate must be true or false, not "maybe".',
    );
  });

  test("a CA certificate must be PEM text", () => {
    expect(parseConnection(password({ caCertificate: `  ${PEM}\n` })).caCertificate).toBe(PEM);
    expect(inputError(() => parseConnection(password({ caCertificate: "MIIB..." })))).toBe(
      'The connection\'s CA certificate is not PEM text: it must contain "-----BEGIN CERTIFICATE-----".',
    );
    const broken = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    expect(
      inputError(() => parseConnection(password({ caCertificate: `${PEM}\n${broken}` }))),
    ).toMatch(
      /^The connection's CA certificate could not be read \(certificate 2 of 2\): .+\. Paste the whole certificate/,
    );
    expect(
      inputError(() =>
        parseConnection(password({ caCertificate: "-----BEGIN CERTIFICATE-----\nMIIB" })),
      ),
    ).toBe(
      "The connection's CA certificate has no -----END CERTIFICATE----- line: paste the whole certificate.",
    );
  });

  test.each([
    [
      "",
      "The connection's host is empty. Enter the IMAP server's host name, e.g. imap.example.com.",
    ],
    [
      undefined,
      "The connection's host is empty. Enter the IMAP server's host name, e.g. imap.example.com.",
    ],
    [
      "imaps://imap.example.com",
      'The connection\'s host "imaps://imap.example.com" is not a host name: enter only the name (e.g. imap.example.com), without a scheme, path or spaces.',
    ],
    [
      "imap example.com",
      'The connection\'s host "imap example.com" is not a host name: enter only the name (e.g. imap.example.com), without a scheme, path or spaces.',
    ],
  ])("host %j is refused", (host, message) => {
    expect(inputError(() => parseConnection(password({ host })))).toBe(message);
  });

  test("the username and the password are required; the password is kept exactly as typed", () => {
    expect(inputError(() => parseConnection(password({ username: " " })))).toBe(
      "The connection's username is empty.",
    );
    expect(inputError(() => parseConnection(password({ password: "" })))).toBe(
      "The connection's password is empty.",
    );
    expect(inputError(() => parseConnection(password({ password: undefined })))).toBe(
      "The connection's password is empty.",
    );
    expect(parseConnection(password({ password: " pass word " })).password).toBe(" pass word ");
  });

  test("no connection at all is refused", () => {
    expect(inputError(() => parseConnection(undefined))).toBe(
      "No connection was given: choose an IMAP connection for this step.",
    );
  });
});

describe("parseConnection (imapOAuth2)", () => {
  test("the access token comes from the connection's token, and no password is needed", () => {
    expect(parseConnection(oauth())).toEqual({
      host: "outlook.office365.com",
      port: 993,
      encryption: "tls",
      user: "shared@example.com",
      accessToken: "eyJ0eXAi.token",
      verifyCertificate: true,
      caCertificate: undefined,
      // kept out of every message, though it is not used to log in
      credentials: ["client-secret"],
    });
  });

  test("a password field, if any, is ignored: only the token logs in", () => {
    const settings = parseConnection(oauth({ password: "s3cret" }));
    expect(settings.password).toBeUndefined();
    expect(settings.accessToken).toBe("eyJ0eXAi.token");
  });

  test("its host, port, encryption and certificate fields are parsed as for imap", () => {
    expect(
      parseConnection(
        oauth({
          host: "imap.gmail.com",
          port: "",
          encryption: "TLS",
          verifyCertificate: false,
          caCertificate: PEM,
        }),
      ),
    ).toMatchObject({
      host: "imap.gmail.com",
      port: 993,
      encryption: "tls",
      verifyCertificate: false,
      caCertificate: PEM,
    });
    expect(inputError(() => parseConnection(oauth({ port: "70000" })))).toBe(
      "The connection's port 70000 is out of range: use a number from 1 to 65535 (usually 993 or 143).",
    );
    expect(inputError(() => parseConnection(oauth({ host: "" })))).toBe(
      "The connection's host is empty. Enter the IMAP server's host name, e.g. imap.example.com.",
    );
    expect(inputError(() => parseConnection(oauth({ username: "" })))).toBe(
      "The connection's username is empty.",
    );
  });

  test.each([
    ["no token", null],
    ["a token without access_token", { refresh_token: "r" }],
    ["an empty access_token", { access_token: "" }],
    ["a blank access_token", { access_token: "  " }],
    ["an access_token that is not text", { access_token: 42 }],
  ])("%s is a connection error asking to authorise it", (_name, token) => {
    const err = connectionError(() => parseConnection(oauth({}, token)));
    expect(err.message).toBe(
      "The OAuth 2.0 connection has no access token: authorise the connection first.",
    );
    expect(err.code).toBe("NOT_AUTHORIZED");
    expect(JSON.stringify(err.connection)).not.toContain("client-secret");
  });

  test("an access token with a control character is a connection error", () => {
    const err = connectionError(() => parseConnection(oauth({}, { access_token: "abc\r\ndef" })));
    expect(err.message).toBe(
      "The OAuth 2.0 connection's access token contains control characters: re-authorise the connection.",
    );
  });

  test("its defaults are Microsoft 365's", () => {
    const inputs = imapOAuth2Connection.inputs;
    expect(inputs.host.default).toBe("outlook.office365.com");
    expect(inputs.port.default).toBe("993");
    expect(inputs.encryption.default).toBe("tls");
    expect(inputs.authorizeUrl.default).toBe(
      "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    );
    expect(inputs.tokenUrl.default).toBe(
      "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    );
    expect(inputs.scopes.default).toBe(
      "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
    );
  });
});

describe("redactedConnection", () => {
  test("keeps the fields but never the password, the client secret or the token", () => {
    const redacted = redactedConnection(oauth({ password: "s3cret" }));
    expect(redacted.token).toBeUndefined();
    expect(redacted.fields).toMatchObject({
      username: "shared@example.com",
      clientSecret: "[redacted]",
      password: "[redacted]",
      clientId: "client-id",
    });
    expect(JSON.stringify(redacted)).not.toMatch(/eyJ0eXAi\.token|client-secret|s3cret/);
  });
});

describe("the app-only connections", () => {
  const certificate = testCertificate();
  const account = testServiceAccount("https://oauth2.googleapis.com/token");
  const CLIENT = "11111111-2222-4333-8444-555555555555";
  const server = {
    host: "outlook.office365.com",
    port: "993",
    encryption: "tls",
    verifyCertificate: "true",
    caCertificate: "",
  };
  const appOnly = (fields: Record<string, unknown> = {}, token?: Record<string, unknown>) =>
    createConnection(
      imapM365AppOnlyConnection,
      {
        ...server,
        authority: "https://login.microsoftonline.com",
        tenant: "contoso.onmicrosoft.com",
        clientId: CLIENT,
        clientSecret: "Qx8~secret",
        scopes: "https://outlook.office365.com/.default",
        username: "support@contoso.com",
        ...fields,
      },
      token,
    );
  const withCertificate = (fields: Record<string, unknown> = {}) =>
    createConnection(imapM365CertificateConnection, {
      ...server,
      authority: "https://login.microsoftonline.com",
      tenant: "contoso.onmicrosoft.com",
      clientId: CLIENT,
      certificate: certificate.pem,
      scopes: "https://outlook.office365.com/.default",
      username: "support@contoso.com",
      ...fields,
    });
  const google = (fields: Record<string, unknown> = {}) =>
    createConnection(imapGoogleServiceAccountConnection, {
      ...server,
      host: "imap.gmail.com",
      serviceAccountKey: account.json,
      username: "orders@example.com",
      ...fields,
    });

  test("imapM365AppOnly uses the platform's token as it is", () => {
    const settings = parseConnection(appOnly({}, { access_token: "eyJ0.platform" }));
    expect(settings.accessToken).toBe("eyJ0.platform");
    expect(settings.grant).toBeUndefined();
    expect(settings.appOnly).toEqual({
      provider: "microsoft365",
      clientId: CLIENT,
      tenant: "contoso.onmicrosoft.com",
    });
    expect(settings.credentials).toEqual(["Qx8~secret"]);
  });

  test("imapM365AppOnly without the platform's token asks the tenant's endpoint with the secret", () => {
    const settings = parseConnection(appOnly());
    expect(settings.accessToken).toBeUndefined();
    expect(settings.grant).toMatchObject({
      kind: "clientSecret",
      tokenUrl: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
      clientId: CLIENT,
      subject: "",
      scope: "https://outlook.office365.com/.default",
      clientSecret: "Qx8~secret",
    });
  });

  test("imapM365AppOnly's token URL is the template of its authority and tenant", () => {
    expect(imapM365AppOnlyConnection.inputs.tokenUrl).toMatchObject({
      type: "template",
      templateValue: "{{#authority}}/{{#tenant}}/oauth2/v2.0/token",
    });
    expect(imapM365AppOnlyConnection.oauth2Type).toBe("client_credentials");
    expect(imapM365AppOnlyConnection.inputs.scopes.default).toBe(
      "https://outlook.office365.com/.default",
    );
  });

  test("imapM365Certificate signs for the tenant's token endpoint (national clouds through the authority)", () => {
    const settings = parseConnection(
      withCertificate({
        authority: "https://login.microsoftonline.us/",
        tenant: "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
      }),
    );
    expect(settings.grant).toMatchObject({
      kind: "clientAssertion",
      tokenUrl:
        "https://login.microsoftonline.us/72F988BF-86F1-41AF-91AB-2D7CD011DB47/oauth2/v2.0/token",
      clientId: CLIENT,
      subject: "",
    });
    expect(settings.credentials).toEqual([certificate.pem]);
  });

  test("imapGoogleServiceAccount acts as the mailbox's user", () => {
    const settings = parseConnection(google());
    expect(settings.grant).toMatchObject({
      kind: "jwtBearer",
      tokenUrl: "https://oauth2.googleapis.com/token",
      clientId: account.clientEmail,
      subject: "orders@example.com",
      scope: "https://mail.google.com/",
      keyId: account.keyId,
    });
    expect(settings.appOnly).toEqual({
      provider: "google",
      clientId: account.clientId,
      serviceAccount: account.clientEmail,
    });
    expect(settings.credentials).toEqual([account.json, account.privateKeyPem]);
  });

  test.each([
    [
      { tenant: "" },
      "The connection's tenant is empty. Enter the customer's Directory (tenant) ID (Microsoft Entra ID > Overview) or one of its domains, e.g. contoso.onmicrosoft.com.",
    ],
    [
      { tenant: "common" },
      "The connection's tenant \"common\" names no tenant: app-only access needs the customer's own Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com.",
    ],
    [
      { tenant: "contoso/../x" },
      'The connection\'s tenant "contoso/../x" is neither a Directory (tenant) ID (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47) nor a domain such as contoso.onmicrosoft.com.',
    ],
    [
      { clientId: "Qx8~secret" },
      "The connection's client ID \"Qx8~secret\" is not a GUID. Enter the Application (client) ID from the app registration's Overview page.",
    ],
    [
      { authority: "http://login.microsoftonline.com" },
      'The connection\'s authority "http://login.microsoftonline.com" must be an https address without a path, e.g. https://login.microsoftonline.com.',
    ],
    [
      { authority: "https://login.microsoftonline.com/contoso" },
      'The connection\'s authority "https://login.microsoftonline.com/contoso" must be an https address without a path, e.g. https://login.microsoftonline.com.',
    ],
    [
      { scopes: "https://outlook.office.com/IMAP.AccessAsUser.All" },
      'The connection\'s scopes "https://outlook.office.com/IMAP.AccessAsUser.All" are not an app-only scope: use https://outlook.office365.com/.default (application permissions are requested as <resource>/.default).',
    ],
  ])("imapM365Certificate with %o is refused before any traffic", (fields, message) => {
    expect(inputError(() => parseConnection(withCertificate(fields)))).toBe(message);
  });

  test("redactedConnection hides the certificate and the key file", () => {
    const shown = JSON.stringify([
      redactedConnection(withCertificate()),
      redactedConnection(google()),
      redactedConnection(appOnly({}, { access_token: "eyJ0.platform" })),
    ]);
    expect(shown).toContain('"certificate":"[redacted]"');
    expect(shown).toContain('"serviceAccountKey":"[redacted]"');
    expect(shown).not.toMatch(/PRIVATE KEY|Qx8~secret|eyJ0\.platform/);
  });
});
