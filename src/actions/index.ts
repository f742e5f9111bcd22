import { addFlags } from "./addFlags";
import { appendMessage } from "./appendMessage";
import { copyMessage } from "./copyMessage";
import { createDraft } from "./createDraft";
import { createMailbox } from "./createMailbox";
import { createReplyDraft } from "./createReplyDraft";
import { deleteMailbox } from "./deleteMailbox";
import { deleteMessage } from "./deleteMessage";
import { downloadAttachment } from "./downloadAttachment";
import { downloadMessage } from "./downloadMessage";
import { getMessage } from "./getMessage";
import { getStatus } from "./getStatus";
import { listMailboxes } from "./listMailboxes";
import { moveMessage } from "./moveMessage";
import { removeFlags } from "./removeFlags";
import { renameMailbox } from "./renameMailbox";
import { searchMailbox } from "./searchMailbox";
import { setFlags } from "./setFlags";
import { waitForEmail } from "./waitForEmail";

/** Action keys are public API: never rename one. */
export const actions = {
  addFlags,
  appendMessage,
  copyMessage,
  createDraft,
  createMailbox,
  createReplyDraft,
  deleteMailbox,
  deleteMessage,
  downloadAttachment,
  downloadMessage,
  getMessage,
  getStatus,
  listMailboxes,
  moveMessage,
  removeFlags,
  renameMailbox,
  searchMailbox,
  setFlags,
  waitForEmail,
};
