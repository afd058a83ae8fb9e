// Jest runs in ESM mode (NestJS 12 and aedes 1.x ship as ES modules only):
// `npm test` starts node with --experimental-vm-modules.
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^@amr/(protocol|persistence|config|security|runtime|alarms|geo)$': '<rootDir>/libs/$1/src/index.ts',
    '^@amr/broker$': '<rootDir>/broker/src/index.ts',
    '^@amr/(routing|api|platform)$': '<rootDir>/apps/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testEnvironment: 'node',
};

export default {
  // Tests wait on events with their own deadlines; this only bounds a test that hangs.
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{libs,apps,broker,device-sim}/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
