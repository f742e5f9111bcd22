import type { MailboxEntry } from "./mailboxes";
import { pickDraftsMailbox } from "./mailboxes";

function entry(path: string, extra: Partial<MailboxEntry> = {}): MailboxEntry {
  const parts = path.split(".");
  const name = parts.pop() ?? path;
  return {
    path,
    pathAsListed: path,
    flags: [],
    delimiter: ".",
    listed: true,
    parentPath: parts.join("."),
    parent: parts,
    name,
    subscribed: true,
    ...extra,
  };
}

describe("pickDraftsMailbox", () => {
  test("the \\Drafts special use wins over a mailbox named Drafts", () => {
    expect(
      pickDraftsMailbox([entry("Drafts"), entry("Entwürfe", { specialUse: "\\Drafts" })]),
    ).toBe("Entwürfe");
  });

  test("without special use: Drafts at the top, else INBOX.Drafts, in any letter case", () => {
    expect(pickDraftsMailbox([entry("INBOX"), entry("INBOX.Drafts"), entry("drafts")])).toBe(
      "drafts",
    );
    expect(pickDraftsMailbox([entry("INBOX"), entry("INBOX.Drafts")])).toBe("INBOX.Drafts");
  });

  test("a Drafts deeper down, or one that cannot be selected, is not the drafts mailbox", () => {
    expect(pickDraftsMailbox([entry("Archive.Drafts")])).toBeUndefined();
    expect(pickDraftsMailbox([entry("Drafts", { flags: ["\\Noselect"] })])).toBeUndefined();
    expect(
      pickDraftsMailbox([entry("Old", { specialUse: "\\Drafts", flags: ["\\NonExistent"] })]),
    ).toBeUndefined();
  });
});
