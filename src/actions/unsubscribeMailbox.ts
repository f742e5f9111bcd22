import { connectionInput, parseMailbox, pathInput } from "../inputs";
import { setSubscription } from "../mailboxes";
import { output, subscription } from "../schemas";
import { withSession } from "../session";
import { action } from "../spectral";

export const unsubscribeMailbox = action({
  performSafety: "notAllowed",
  outputSchema: output(subscription),
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
