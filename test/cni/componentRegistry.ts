import imap from "@component-manifests/imap";
import { componentManifests } from "@prismatic-io/spectral";

export const componentRegistry = componentManifests({ imap });

export type TComponentRegistry = typeof componentRegistry;

declare module "@prismatic-io/spectral" {
  interface IntegrationDefinitionComponentRegistry extends TComponentRegistry {}
}
