import { addFlags } from "./addFlags";
import { addLabels } from "./addLabels";
import { appendMessage } from "./appendMessage";
import { archiveMessage } from "./archiveMessage";
import { checkConnection } from "./checkConnection";
import { copyMessage } from "./copyMessage";
import { createDraft } from "./createDraft";
import { createMailbox } from "./createMailbox";
import { createReplyDraft } from "./createReplyDraft";
import { deleteMailbox } from "./deleteMailbox";
import { deleteMessage } from "./deleteMessage";
import { downloadAttachment } from "./downloadAttachment";
import { downloadMessage } from "./downloadMessage";
import { getMessage } from "./getMessage";
import { getQuota } from "./getQuota";
import { getStatus } from "./getStatus";
import { listMailboxes } from "./listMailboxes";
import { moveMessage } from "./moveMessage";
import { removeFlags } from "./removeFlags";
import { removeLabels } from "./removeLabels";
import { renameMailbox } from "./renameMailbox";
import { searchMailbox } from "./searchMailbox";
import { setFlags } from "./setFlags";
import { subscribeMailbox } from "./subscribeMailbox";
import { unsubscribeMailbox } from "./unsubscribeMailbox";
import { waitForEmail } from "./waitForEmail";

/** Action keys are public API: never rename one. */
export const actions = {
  addFlags,
  addLabels,
  appendMessage,
  archiveMessage,
  checkConnection,
  copyMessage,
  createDraft,
  createMailbox,
  createReplyDraft,
  deleteMailbox,
  deleteMessage,
  downloadAttachment,
  downloadMessage,
  getMessage,
  getQuota,
  getStatus,
  listMailboxes,
  moveMessage,
  removeFlags,
  removeLabels,
  renameMailbox,
  searchMailbox,
  setFlags,
  subscribeMailbox,
  unsubscribeMailbox,
  waitForEmail,
};
