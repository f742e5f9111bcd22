/**
 * replyText on messages written the way common mail clients write replies, stored on the real
 * server and read back by Get Message and the New Emails trigger.
 */
import fs from "node:fs";
import path from "node:path";
import { harness, tlsConnection, uniqueName, withDirect } from "./helpers";

const USER = "test34";

const EXPECTED: Record<string, string> = {
  // Gmail, top-posted, text and HTML: the "On ... wrote:" line and the quote go.
  "gmail.eml": "Thanks, the invoice is fine.\nWe will pay on Friday.",
  // Outlook, HTML only (ISO-8859-1): the text rendering loses the "From: / Sent:" block below the rule.
  "outlook-html.eml": "Approved, go ahead. Schönen Tag!",
  // Outlook in plain text: "-----Original Message-----" and what follows go.
  "outlook-plain.eml": "Approved.",
  // Apple Mail on a phone: the "Sent from my iPhone" signature and the "> On ... wrote:" quote go.
  "apple.eml": "Sounds good, see you then.",
  // Bottom-posting between quoted lines: the answers stay, the quotes and the signature go.
  "bottom-posting.eml": "Yes, we have 40 units.\nTomorrow morning.",
  // No quote, a "-- " signature: the code stays.
  "signature.eml": "Your code is 481516.",
};

function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(__dirname, "fixtures", "replies", name));
}

describe("replyText", () => {
  let mailbox: string;
  const uids: Record<string, number> = {};

  beforeAll(async () => {
    mailbox = uniqueName("replies");
    await withDirect(USER, async (client) => {
      await client.mailboxCreate(mailbox);
      for (const name of Object.keys(EXPECTED)) {
        const result = await client.append(mailbox, fixture(name));
        if (!result || !result.uid) throw new Error(`append of ${name} failed`);
        uids[name] = result.uid;
      }
    });
  });

  test.each(Object.entries(EXPECTED))("Get Message: %s", async (name, expected) => {
    const { data } = (await harness.action("getMessage", {
      connection: tlsConnection(USER),
      mailbox,
      uid: String(uids[name]),
    })) as { data: { replyText: string | null; text: string | null } };
    expect(data.replyText).toBe(expected);
    // The text itself still has everything.
    expect(data.text?.length ?? 0).toBeGreaterThan(expected.length);
  });

  test("New Emails delivers replyText with Fetch Content", async () => {
    const watched = uniqueName("replies-poll");
    await withDirect(USER, (client) => client.mailboxCreate(watched));
    const instanceState: Record<string, unknown> = {};
    const poll = async () =>
      (await harness.trigger(
        "newEmails",
        {},
        { connection: tlsConnection(USER), mailbox: watched, fetchContent: "true" },
        { instanceState },
      )) as unknown as {
        payload: { body: { data: { messages: { replyText: string | null }[] } } };
      };
    await poll();
    await withDirect(USER, (client) => client.append(watched, fixture("gmail.eml")));
    const result = await poll();
    expect(result.payload.body.data.messages.map((message) => message.replyText)).toEqual([
      EXPECTED["gmail.eml"],
    ]);
  });
});
