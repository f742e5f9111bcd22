import { action } from "@prismatic-io/spectral";
import { connectionInput, parseMailbox, pathInput } from "../inputs";
import { setSubscription } from "../mailboxes";
import { boolean, mailboxPath, object, output } from "../schemas";
import { withSession } from "../session";

export const unsubscribeMailbox = action({
  performSafety: "notAllowed",
  outputSchema: output(
    object(
      { path: mailboxPath, subscribed: boolean("The subscription after the step.") },
      "The mailbox and its subscription.",
    ),
  ),
  display: {
    label: "Unsubscribe from Mailbox",
    description:
      "Unsubscribe from a mailbox: mail clients that show subscribed folders only stop showing it; the mailbox and its messages stay. Also clears a subscription to a mailbox that no longer exists. Changes the subscription only; safe to retry.",
  },
  inputs: { connection: connectionInput, path: pathInput },
  perform: async (context, params) => {
    const path = parseMailbox(params.path, "Path");
    const result = await withSession(params.connection, context, (session) =>
      setSubscription(session, path, false),
    );
    return { data: result };
  },
  examplePayload: { data: { path: "Projects/2024", subscribed: false } },
});
