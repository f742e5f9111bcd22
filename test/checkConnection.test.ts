import { harness, legacyConnection, server, tlsConnection } from "./helpers";

const USER = "test32";

async function check(connection: unknown): Promise<Record<string, unknown>> {
  const { data } = (await harness.action("checkConnection", { connection })) as {
    data: Record<string, unknown>;
  };
  // nothing secret in the answer, in any form
  const text = JSON.stringify(data);
  expect(text).not.toContain(server.password);
  expect(text).not.toContain(Buffer.from(server.password).toString("base64"));
  return data;
}

describe("checkConnection", () => {
  test("on the main server: TLS and its certificate, the mechanism used, the extensions, the special-use mailboxes", async () => {
    const data = await check(tlsConnection(USER));
    expect(data).toMatchObject({
      ok: true,
      server: {
        host: server.host,
        port: server.tlsPort,
        encryption: "tls",
        greeting: "Dovecot (Debian) ready.",
        id: { name: "Dovecot" },
      },
      login: { user: USER, mechanism: "AUTH=PLAIN" },
      tls: {
        version: "TLSv1.3",
        certificate: { subject: "CN=localhost", issuer: "CN=IMAP component test CA" },
      },
      capabilities: {
        UIDPLUS: true,
        MOVE: true,
        CONDSTORE: true,
        "SPECIAL-USE": true,
        IDLE: true,
        ESEARCH: true,
        "X-GM-EXT-1": false,
        OBJECTID: false,
      },
      specialUseMailboxes: {
        "\\Drafts": "Drafts",
        "\\Sent": "Sent",
        "\\Trash": "Trash",
        "\\Junk": "Junk",
        "\\Archive": "Archive",
      },
      notes: [],
    });
    expect(data.authMechanisms).toEqual(expect.arrayContaining(["AUTH=PLAIN", "AUTH=XOAUTH2"]));
    expect(typeof data.roundTripMs).toBe("number");
    const certificate = (data.tls as { certificate: { validTo: string } }).certificate;
    expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(Date.now());
  });

  test("on the legacy server: no TLS, and what the component does differently, in plain words", async () => {
    const data = await check(legacyConnection(USER));
    expect(data).toMatchObject({
      ok: true,
      server: { encryption: "none" },
      tls: null,
      capabilities: { UIDPLUS: false, MOVE: false, "SPECIAL-USE": false },
    });
    expect(data.notes).toEqual([
      "No MOVE: moving is a copy, a check that every copy arrived, then an exact expunge of the moved messages.",
      "No UIDPLUS: new UIDs after append, copy and move are found by Message-ID and size, and a delete refuses when other messages are marked \\Deleted (a plain EXPUNGE would remove them too).",
      "No SPECIAL-USE: Sent, Drafts, Trash and the like are recognised by their usual names only.",
      "No ESEARCH: search results arrive as a list of every UID rather than ranges.",
      "No BINARY: attachments are fetched encoded and decoded by the component.",
      "No IDLE: waiting for mail means polling the mailbox every few seconds.",
    ]);
  });

  test.each<[string, Record<string, string>, Record<string, unknown>]>([
    [
      "a wrong password",
      { password: "not-the-password" },
      { ok: false, stage: "login", code: "AUTHENTICATION_FAILED" },
    ],
    ["a refused port", { port: "1" }, { ok: false, stage: "connect", code: "CONNECTION_REFUSED" }],
    [
      "a port that is not a number",
      { port: "99x3" },
      { ok: false, stage: "settings", code: "INVALID_SETTINGS" },
    ],
  ])("%s is a diagnosis, not a failed step", async (_name, fields, expected) => {
    const data = await check(tlsConnection(USER, fields));
    expect(data).toMatchObject(expected);
    expect(Object.keys(data).sort()).toEqual(["code", "fix", "message", "ok", "stage"]);
    expect(String(data.fix).length).toBeGreaterThan(10);
    expect(JSON.stringify(data)).not.toContain("not-the-password");
  });
});
