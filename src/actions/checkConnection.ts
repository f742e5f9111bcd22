import { checkConnection as check } from "../diagnose";
import { connectionInput } from "../inputs";
import { connectionDiagnosis, output } from "../schemas";
import { action } from "../spectral";

export const checkConnection = action({
  performSafety: "safe",
  outputSchema: output(connectionDiagnosis),
  display: {
    label: "Check Connection",
    description:
      "Log in with the connection and report the server, its TLS certificate, the login mechanism, the extensions that matter, the special-use mailboxes and the round-trip time; on failure, the stage that failed, the reason and the fix, as data (the step does not fail). Read-only; safe to retry.",
  },
  inputs: { connection: connectionInput },
  perform: async (context, params) => ({ data: await check(params.connection, context) }),
  examplePayload: {
    data: {
      ok: true,
      server: {
        host: "imap.example.com",
        port: 993,
        encryption: "tls",
        greeting: "Dovecot (Debian) ready.",
        id: { name: "Dovecot" },
      },
      login: { user: "support@example.com", mechanism: "AUTH=PLAIN" },
      tls: {
        version: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        certificate: {
          subject: "CN=imap.example.com",
          issuer: "C=US, O=Let's Encrypt, CN=R11",
          validFrom: "2026-10-01T00:00:00.000Z",
          validTo: "2026-12-30T00:00:00.000Z",
        },
      },
      capabilities: {
        UIDPLUS: true,
        MOVE: true,
        CONDSTORE: true,
        QRESYNC: true,
        "SPECIAL-USE": true,
        IDLE: true,
        ESEARCH: true,
        "COMPRESS=DEFLATE": true,
        BINARY: true,
        "LIST-STATUS": true,
        "X-GM-EXT-1": false,
        OBJECTID: false,
        QUOTA: true,
      },
      authMechanisms: ["AUTH=PLAIN"],
      specialUseMailboxes: { "\\Drafts": "Drafts", "\\Sent": "Sent", "\\Trash": "Trash" },
      roundTripMs: 21.4,
      notes: [],
    },
  },
});
