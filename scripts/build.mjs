// Bundles the component into one CommonJS file, dist/index.js, with every runtime dependency
// inside (prism uploads only dist/), and copies the icon beside it.
//
// Every flow step loads the component in a fresh process, so its load time is paid on every step:
// the two plugins below keep what no step uses from running at load (see "Bundle" in README.md).
// dist/ stays byte-for-byte reproducible: the component's signature is a hash of it.
//
//   node scripts/build.mjs [--outdir DIR]

import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: options } = parseArgs({
  options: { outdir: { type: "string" } },
});
const dist = path.resolve(options.outdir ?? path.join(root, "dist"));

/**
 * Module-level work in dependencies that only some code paths use, deferred to first use. Each
 * replacement must match exactly once in the pinned version, or the build fails: a dependency
 * upgrade that changes the text is noticed here, not in production.
 */
const DEFERRED = [
  // spectral's code-native-integration helpers: webhooks of other flows (axios, for
  // context.invokeFlow), the integration's YAML (yaml) and config pages described with zod. This
  // component never calls them, so they are left out of the bundle (NOT_BUNDLED): a step that
  // reached one would fail with "Cannot find module".
  {
    file: "node_modules/@prismatic-io/spectral/dist/serverTypes/context.js",
    from: 'const axios_1 = __importDefault(require("axios"));',
    to: 'const axios_1 = __deferred(() => __importDefault(require("axios")));',
  },
  {
    file: "node_modules/@prismatic-io/spectral/dist/serverTypes/convertIntegration.js",
    from: 'const yaml_1 = __importDefault(require("yaml"));',
    to: 'const yaml_1 = __deferred(() => __importDefault(require("yaml")));',
  },
  {
    file: "node_modules/@prismatic-io/spectral/dist/serverTypes/configurationSchema.js",
    from: 'const zod_1 = require("zod");',
    to: 'const zod_1 = __deferred(() => require("zod"));',
  },
  // libmime builds iconv-lite's GBK tables at import, only to know the class all double-byte
  // decoders share; it is needed when a part in such a charset is decoded as a stream.
  ...["esm", "cjs"].map((flavour) => ({
    file: `node_modules/libmime/dist/${flavour}/charset.js`,
    from:
      flavour === "esm"
        ? "const DBCS_DECODER = iconv.getCodec('gbk').decoder;"
        : "const DBCS_DECODER = iconv_lite_1.default.getCodec('gbk').decoder;",
    to: `let dbcsDecoder;\nconst dbcsDecoderClass = () => (dbcsDecoder ??= ${flavour === "esm" ? "iconv" : "iconv_lite_1.default"}.getCodec('gbk').decoder);`,
    also: [{ from: "codec.decoder === DBCS_DECODER", to: "codec.decoder === dbcsDecoderClass()" }],
  })),
];

/** Required only through DEFERRED's wrappers, on paths the component never takes; not in dist/. */
const NOT_BUNDLED = ["axios", "yaml", "zod"];

/** A module object whose properties are read from `load()`'s result, loaded on the first read. */
const DEFERRED_HELPER =
  "function __deferred(load) { let loaded; return new Proxy({}, { get: (_, key) => (loaded ??= load())[key] }); }\n";

const replaceOnce = (text, from, to, file) => {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) {
    throw new Error(
      `${file}: expected exactly one ${JSON.stringify(from)}; was the package upgraded?`,
    );
  }
  return text.slice(0, at) + to + text.slice(at + from.length);
};

const deferPlugin = {
  name: "defer",
  setup(builder) {
    for (const { file, from, to, also = [] } of DEFERRED) {
      const absolute = path.join(root, file);
      const filter = new RegExp(`^${absolute.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
      builder.onLoad({ filter }, () => {
        let text = replaceOnce(readFileSync(absolute, "utf8"), from, to, file);
        for (const more of also) text = replaceOnce(text, more.from, more.to, file);
        if (to.includes("__deferred(")) text = DEFERRED_HELPER + text;
        return { contents: text, loader: "js", resolveDir: path.dirname(absolute) };
      });
    }
  },
};

/** spectral's index loads its test harness and every helper: src/ imports from src/spectral.ts. */
const spectralIndexPlugin = {
  name: "no-spectral-index",
  setup(builder) {
    builder.onResolve({ filter: /^@prismatic-io\/spectral$/ }, ({ importer, kind }) => {
      if (kind === "import-statement" || kind === "require-call" || kind === "dynamic-import") {
        return {
          errors: [
            {
              text: `${path.relative(root, importer)} imports @prismatic-io/spectral's index, which loads all of spectral on every step: import from src/spectral.ts`,
            },
          ],
        };
      }
      return undefined;
    });
  },
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [path.join(root, "src", "index.ts")],
  outfile: path.join(dist, "index.js"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  logLevel: "warning",
  minify: true,
  keepNames: true,
  legalComments: "external",
  plugins: [spectralIndexPlugin, deferPlugin],
  external: NOT_BUNDLED,
  define: {
    "process.env.NODE_ENV": '"production"',
    // Where builders read documentation.md once it is hosted: the component's documentation link.
    "process.env.IMAP_DOCUMENTATION_URL": JSON.stringify(process.env.IMAP_DOCUMENTATION_URL ?? ""),
    // ES-module-only dependencies (email-reply-parser) read import.meta.url, which CommonJS lacks.
    "import.meta.url": "__importMetaUrl",
  },
  banner: { js: 'var __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
copyFileSync(path.join(root, "assets", "icon.png"), path.join(dist, "icon.png"));

const size = statSync(path.join(dist, "index.js")).size;
console.log(`dist/index.js: ${(size / 1024 / 1024).toFixed(2)} MB`);
