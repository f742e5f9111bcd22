/**
 * The parts of spectral the component uses, from spectral's own modules instead of its index.
 *
 * The index (`@prismatic-io/spectral`) is CommonJS, so the bundler cannot drop what it does not
 * use: importing it loads spectral's test harness (jest-mock), its date helpers (date-fns) and
 * its code-native-integration helpers, about half of what every step spent loading the bundle.
 * The builders here are the index's own, with the same types; test/spectralIndex.test.ts checks
 * that the component they build is the one the index builds.
 */
import type * as spectral from "@prismatic-io/spectral";
import {
  defaultBatchResolver,
  withPolledResultType,
  withPollingState,
  wrapBatchedFire,
} from "@prismatic-io/spectral/dist/serverTypes/batching";
import { convertComponent } from "@prismatic-io/spectral/dist/serverTypes/convertComponent";

export { ConnectionError, SpectralError } from "@prismatic-io/spectral/dist/errors";
export {
  OAuth2Type,
  templateConnectionInputs,
} from "@prismatic-io/spectral/dist/types/ConnectionDefinition";

/** The definition as it is: spectral's builders of this kind only give it a type. */
const same = (definition: unknown) => definition;

// The casts restate each builder's generic signature from the index; the body returns its input.
export const action = same as typeof spectral.action;
export const input = same as typeof spectral.input;
export const dataSource = same as typeof spectral.dataSource;
export const connection = same as typeof spectral.connection;
export const oauth2Connection = same as typeof spectral.oauth2Connection;

export const component: typeof spectral.component = (definition) => convertComponent(definition);

export const pollingTrigger: typeof spectral.pollingTrigger = (definition) => ({
  ...definition,
  triggerType: "polling",
});

/** What batchTrigger reads of its definition; the index's typings describe only its signature. */
interface BatchDefinition {
  perform: unknown;
  onDeploy?: { perform: unknown; inputs: unknown };
}

/** A trigger that fires once per item, the platform resolving the items and the pages. */
const fireEach = (perform: unknown) =>
  withPolledResultType(
    wrapBatchedFire(
      withPollingState(perform as Parameters<typeof withPollingState>[0]) as Parameters<
        typeof wrapBatchedFire
      >[0],
    ),
  );

export const batchTrigger = (({ perform, onDeploy, ...rest }: BatchDefinition) => ({
  ...rest,
  perform: fireEach(perform),
  synchronousResponseSupport: "invalid",
  triggerResolverSupport: "required",
  triggerResolver: defaultBatchResolver,
  ...(onDeploy
    ? {
        onDeployPerform: fireEach(onDeploy.perform),
        onDeployResolver: { ...defaultBatchResolver, inputs: onDeploy.inputs },
      }
    : {}),
})) as unknown as typeof spectral.batchTrigger;
