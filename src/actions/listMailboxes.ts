import { connectionInput, parseBool } from "../inputs";
import { listMailboxEntries } from "../mailboxes";
import {
  boolean,
  integer,
  list,
  mailboxPath,
  nullable,
  object,
  output,
  text,
  uidValidity,
} from "../schemas";
import { withSession } from "../session";
import { action, input } from "../spectral";

export const listMailboxes = action({
  performSafety: "safe",
  outputSchema: output(
    list(
      object(
        {
          path: mailboxPath,
          pathAsListed: text("The path exactly as the server listed it (modified UTF-7)."),
          flags: list(
            text("A mailbox attribute such as \\HasNoChildren."),
            "The mailbox's attributes.",
          ),
          delimiter: nullable(text("The hierarchy separator, e.g. /.")),
          listed: boolean("Whether LIST returned it."),
          specialUse: text("Its special use (\\Sent, \\Trash, ...), present only when it has one."),
          parentPath: text('The parent\'s full path; "" at the top.'),
          parent: list(text("A parent's name."), "The parents' names, outermost first."),
          name: text("The last part of the path."),
          subscribed: boolean("Whether the account is subscribed to it."),
          counts: nullable(
            object(
              {
                messages: nullable(integer("Number of messages.")),
                unseen: nullable(integer("Messages without \\Seen.")),
                uidNext: nullable(integer("The UID the next message will get.")),
                uidValidity: nullable(uidValidity),
              },
              "The mailbox's counts.",
            ),
          ),
        },
        "One mailbox; counts only with Include Counts (null when it cannot hold messages).",
        ["specialUse", "counts"],
      ),
      "Every mailbox, INBOX first, then by path.",
    ),
  ),
  display: {
    label: "List Mailboxes",
    description:
      "List every mailbox (folder) of the account, INBOX first, optionally with each one's message counts or only the subscribed ones. Read-only; safe to retry.",
  },
  inputs: {
    connection: connectionInput,
    includeCounts: input({
      label: "Include Counts",
      type: "boolean",
      required: false,
      default: "false",
      comments:
        "Add counts to each mailbox: messages, unseen, uidNext and uidValidity (null for a mailbox that cannot hold messages). One command on servers with LIST-STATUS, one STATUS per mailbox otherwise.",
    }),
    subscribedOnly: input({
      label: "Subscribed Only",
      type: "boolean",
      required: false,
      default: "false",
      comments: "List only the mailboxes the account is subscribed to.",
    }),
  },
  perform: async (context, params) => {
    const options = {
      includeCounts: parseBool(params.includeCounts, "Include Counts", false),
      subscribedOnly: parseBool(params.subscribedOnly, "Subscribed Only", false),
    };
    const mailboxes = await withSession(params.connection, context, (session) =>
      listMailboxEntries(session, options),
    );
    return { data: mailboxes };
  },
  examplePayload: {
    data: [
      {
        path: "INBOX",
        pathAsListed: "INBOX",
        flags: ["\\HasNoChildren"],
        delimiter: "/",
        listed: true,
        specialUse: "\\Inbox",
        parentPath: "",
        parent: [],
        name: "INBOX",
        subscribed: true,
      },
      {
        path: "Projects/2024",
        pathAsListed: "Projects/2024",
        flags: ["\\HasNoChildren"],
        delimiter: "/",
        listed: true,
        parentPath: "Projects",
        parent: ["Projects"],
        name: "2024",
        subscribed: false,
      },
      {
        path: "Sent",
        pathAsListed: "Sent",
        flags: ["\\HasNoChildren", "\\Sent"],
        delimiter: "/",
        listed: true,
        specialUse: "\\Sent",
        parentPath: "",
        parent: [],
        name: "Sent",
        subscribed: true,
      },
    ],
  },
});
