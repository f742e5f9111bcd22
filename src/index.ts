import { component } from "@prismatic-io/spectral";
import { actions } from "./actions";
import {
  imapConnection,
  imapGoogleServiceAccountConnection,
  imapM365AppOnlyConnection,
  imapM365CertificateConnection,
  imapOAuth2Connection,
} from "./connections";
import { dataSources } from "./dataSources";
import { triggers } from "./triggers";

export default component({
  key: "imap",
  public: false,
  display: {
    label: "IMAP",
    description: "Interact with your IMAP email account",
    iconPath: "icon.png",
  },
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
