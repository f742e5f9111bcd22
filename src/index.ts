import { actions } from "./actions";
import {
  imapConnection,
  imapGoogleServiceAccountConnection,
  imapM365AppOnlyConnection,
  imapM365CertificateConnection,
  imapOAuth2Connection,
} from "./connections";
import { dataSources } from "./dataSources";
import { component } from "./spectral";
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
  connections: [
    imapConnection,
    imapOAuth2Connection,
    imapM365AppOnlyConnection,
    imapM365CertificateConnection,
    imapGoogleServiceAccountConnection,
  ],
  actions,
  triggers,
  dataSources,
});
