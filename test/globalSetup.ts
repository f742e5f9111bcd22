import { execFileSync } from "node:child_process";
import path from "node:path";

/**
 * Starts the local Dovecot (idempotent) unless IMAP_TEST_EXTERNAL=1 says the tests run against a
 * server of your own, configured through the IMAP_TEST_* variables (see README).
 */
export default function globalSetup(): void {
  if (process.env.IMAP_TEST_EXTERNAL === "1") return;
  const script = path.join(__dirname, "..", "scripts", "test-server.sh");
  execFileSync("bash", [script, "start"], { stdio: "inherit" });
}
