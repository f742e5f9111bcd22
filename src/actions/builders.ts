/**
 * The shared shape of actions that differ only in one word: Add / Remove / Set Flags (the flag
 * change), Add / Remove Labels and Copy / Move Messages (copy or move). Each action file still defines its own public
 * key, label and description; the inputs, their parsing and the output are one definition here.
 */

import { InputError } from "../errors";
import {
  connectionInput,
  destinationInput,
  flagsInput,
  labelsInput,
  mailboxInput,
  parseFlags,
  parseLabels,
  parseMailbox,
  parseUidSet,
  parseUidValidity,
  uidsInput,
  uidValidityInput,
} from "../inputs";
import { changeLabels } from "../labels";
import { samePath } from "../mailboxes";
import type { FlagChange } from "../messages";
import { changeFlags } from "../messages";
import { flagChanges, labelChanges, output, transfer } from "../schemas";
import { toJson } from "../serialize";
import { opening, withSession } from "../session";
import { action } from "../spectral";
import { transferMessages, transferring } from "../transfer";

interface Display {
  label: string;
  description: string;
}

/** An action that adds, removes or replaces flags of messages by UID and returns their flags afterwards. */
export function flagAction(change: FlagChange, display: Display) {
  return action({
    performSafety: "notAllowed",
    outputSchema: output(flagChanges),
    display,
    inputs: {
      connection: connectionInput,
      mailbox: mailboxInput,
      uids: uidsInput,
      flags: flagsInput,
      uidValidity: uidValidityInput,
    },
    perform: async (context, params) => {
      const mailbox = parseMailbox(params.mailbox);
      const uids = parseUidSet(params.uids);
      const flags = parseFlags(params.flags, { required: true });
      const uidValidity = parseUidValidity(params.uidValidity);
      const result = await withSession(
        params.connection,
        context,
        (session) => changeFlags(session, mailbox, uids, flags, change, uidValidity),
        opening(mailbox, false),
      );
      return { data: toJson(result) };
    },
    examplePayload: {
      data: {
        mailbox: "INBOX",
        messages: [
          { uid: 41, flags: ["\\Seen", "\\Flagged"] },
          { uid: 42, flags: ["\\Flagged"] },
        ],
      },
    },
  });
}

/** An action that copies or moves messages by UID to another mailbox and returns where each went. */
export function transferAction(mode: "copy" | "move", display: Display) {
  return action({
    performSafety: "notAllowed",
    outputSchema: output(transfer),
    display,
    inputs: {
      connection: connectionInput,
      mailbox: {
        ...mailboxInput,
        comments: "Full path of the mailbox the messages are in now (the source), e.g. INBOX.",
      },
      uids: uidsInput,
      destination: destinationInput,
      uidValidity: uidValidityInput,
    },
    perform: async (context, params) => {
      const mailbox = parseMailbox(params.mailbox);
      const uids = parseUidSet(params.uids);
      const destination = parseMailbox(params.destination, "Destination");
      const uidValidity = parseUidValidity(params.uidValidity);
      // A copy within one mailbox makes duplicates, as asked; a move there would change nothing.
      if (mode === "move" && samePath(destination, mailbox)) {
        throw new InputError(
          `Destination "${destination}" is the mailbox the messages are in: give another mailbox.`,
        );
      }
      const result = await withSession(
        params.connection,
        context,
        (session) => transferMessages(session, mailbox, uids, destination, mode, uidValidity),
        transferring(mailbox, destination, mode),
      );
      return { data: toJson(result) };
    },
    examplePayload: {
      data: {
        path: "INBOX",
        destination: "Archive",
        uidValidity: "1764115968",
        sourceUidValidity: "1764115901",
        uidMap: [
          { sourceUid: 41, destinationUid: 7 },
          { sourceUid: 42, destinationUid: 8 },
        ],
      },
    },
  });
}

/** An action that adds or removes Gmail labels of messages by UID and returns their labels afterwards. */
export function labelAction(change: "add" | "remove", display: Display) {
  return action({
    performSafety: "notAllowed",
    outputSchema: output(labelChanges),
    display,
    inputs: {
      connection: connectionInput,
      mailbox: mailboxInput,
      uids: uidsInput,
      labels: labelsInput,
      uidValidity: uidValidityInput,
    },
    perform: async (context, params) => {
      const mailbox = parseMailbox(params.mailbox);
      const uids = parseUidSet(params.uids);
      const labels = parseLabels(params.labels);
      const uidValidity = parseUidValidity(params.uidValidity);
      const result = await withSession(
        params.connection,
        context,
        (session) => changeLabels(session, mailbox, uids, labels, change, uidValidity),
        opening(mailbox, false),
      );
      return { data: toJson(result) };
    },
    examplePayload: {
      data: {
        mailbox: "INBOX",
        messages: [{ uid: 41, labels: ["\\Inbox", "\\Important", "Invoices"] }],
      },
    },
  });
}
