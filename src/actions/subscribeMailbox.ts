import { connectionInput, parseMailbox, pathInput } from "../inputs";
import { setSubscription } from "../mailboxes";
import { output, subscription } from "../schemas";
import { withSession } from "../session";
import { action } from "../spectral";

export const subscribeMailbox = action({
  performSafety: "notAllowed",
  outputSchema: output(subscription),
  display: {
    label: "Subscribe to Mailbox",
    description:
      "Subscribe to a mailbox, so that mail clients that show subscribed folders only show it. The mailbox must exist. Changes the subscription only; safe to retry.",
  },
  inputs: { connection: connectionInput, path: pathInput },
  perform: async (context, params) => {
    const path = parseMailbox(params.path, "Path");
    const result = await withSession(params.connection, context, (session) =>
      setSubscription(session, path, true),
    );
    return { data: result };
  },
  examplePayload: { data: { path: "Projects/2024", subscribed: true } },
});
