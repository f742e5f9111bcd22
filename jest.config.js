/** @type {import('jest').Config} */
const shared = {
  testEnvironment: "node",
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.tools.json" }],
    "/node_modules/email-reply-parser/.+\\.js$": "<rootDir>/scripts/jest-esm.cjs",
  },
  // Dependencies are not transformed, except those published only as ES modules.
  transformIgnorePatterns: ["/node_modules/(?!email-reply-parser/)"],
};

module.exports = {
  projects: [
    // Pure functions: no server, runs anywhere in seconds (npm run test:unit).
    { ...shared, displayName: "unit", testMatch: ["<rootDir>/src/**/*.test.ts"] },
    // Against the real Dovecot that scripts/test-server.sh starts (or IMAP_TEST_EXTERNAL=1).
    {
      ...shared,
      displayName: "integration",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      globalSetup: "<rootDir>/test/globalSetup.ts",
      setupFilesAfterEnv: ["<rootDir>/test/leakCheck.ts"],
    },
  ],
  testTimeout: 60000,
  // Two cores: two workers keep the real server busy without starving it.
  maxWorkers: 2,
};
