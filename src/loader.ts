/**
 * dist/index.js: loads the component (dist/component.js) from V8's code cache
 * (dist/component.cache), so that a step does not spend its first tens of milliseconds compiling
 * the bundle. Every flow step loads the component in a fresh process.
 *
 * V8 accepts a cache only from the Node.js version and flags that wrote it. A cache that is
 * rejected, damaged or missing changes nothing but the time: component.js is then compiled from
 * its source, as `require` would, silently. `scripts/build.mjs` writes the cache by running this
 * file with `--write-code-cache` right after the build, with the Node.js that built it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Script } from "node:vm";

const bundle = path.join(__dirname, "component.js");
const cacheFile = path.join(__dirname, "component.cache");

/** The same function wrapper Node.js puts around a CommonJS module. */
function compile(cachedData: Buffer | undefined): Script {
  const source = readFileSync(bundle, "utf8");
  return new Script(
    `(function (exports, require, module, __filename, __dirname) { ${source}\n})`,
    { filename: bundle, cachedData },
  );
}

function readCache(): Buffer | undefined {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

/** Runs the component's module code with `target` as its module object. */
function run(script: Script, target: NodeJS.Module): void {
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(target.exports, target.exports, require, target, bundle, __dirname);
}

if (require.main === module && process.argv[2] === "--write-code-cache") {
  // After the component's module code has run, so that the functions loading compiled are in it.
  const script = compile(undefined);
  run(script, { exports: {} } as NodeJS.Module);
  writeFileSync(cacheFile, script.createCachedData());
} else {
  run(compile(readCache()), module);
}
