import { addFlags } from "./addFlags";
import { addLabels } from "./addLabels";
import { appendMessage } from "./appendMessage";
import { archiveMessage } from "./archiveMessage";
import { copyMessage } from "./copyMessage";
import { createMailbox } from "./createMailbox";
import { deleteMailbox } from "./deleteMailbox";
import { deleteMessage } from "./deleteMessage";
import { downloadAttachment } from "./downloadAttachment";
import { downloadMessage } from "./downloadMessage";
import { getMessage } from "./getMessage";
import { getStatus } from "./getStatus";
import { listMailboxes } from "./listMailboxes";
import { moveMessage } from "./moveMessage";
import { removeFlags } from "./removeFlags";
import { removeLabels } from "./removeLabels";
import { renameMailbox } from "./renameMailbox";
import { searchMailbox } from "./searchMailbox";
import { setFlags } from "./setFlags";

/** Action keys are public API: never rename one. */
export const actions = {
  addFlags,
  addLabels,
  appendMessage,
  archiveMessage,
  copyMessage,
  createMailbox,
  deleteMailbox,
  deleteMessage,
  downloadAttachment,
  downloadMessage,
  getMessage,
  getStatus,
  listMailboxes,
  moveMessage,
  removeFlags,
  removeLabels,
  renameMailbox,
  searchMailbox,
  setFlags,
};
