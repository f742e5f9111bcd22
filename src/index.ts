import { component } from "@prismatic-io/spectral";
import { actions } from "./actions";
import { imapConnection, imapOAuth2Connection } from "./connections";
import { dataSources } from "./dataSources";
import { triggers } from "./triggers";

/** The documentation link the designer shows, when documentation.md is hosted (set at build time). */
const documentationUrl = process.env.IMAP_DOCUMENTATION_URL;

export default component({
  key: "imap",
  public: false,
  display: {
    label: "IMAP",
    description: "Interact with your IMAP email account",
    iconPath: "icon.png",
  },
  ...(documentationUrl ? { documentationUrl } : {}),
  connections: [imapConnection, imapOAuth2Connection],
  actions,
  triggers,
  dataSources,
});
