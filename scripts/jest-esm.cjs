// Jest runs the tests as CommonJS; the few dependencies published only as ES modules
// (email-reply-parser) are converted here with esbuild, as the bundle build converts them.
const { transformSync } = require("esbuild");

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      format: "cjs",
      target: "node20",
      sourcefile: filename,
      sourcemap: "inline",
      define: { "import.meta.url": "__importMetaUrl" },
      banner: 'var __importMetaUrl = require("node:url").pathToFileURL(__filename).href;',
    });
    return { code, map };
  },
};
