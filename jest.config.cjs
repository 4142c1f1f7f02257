// Jest runs the TypeScript sources directly (ts-jest, transpile only; `npm run typecheck`
// does the type checking once for the whole tree). Sources are ESM with `.js` import
// suffixes; the mapper strips them so ts-jest's CommonJS output resolves the `.ts` files.
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'node', esModuleInterop: true, isolatedModules: true, target: 'ES2022' } }],
};
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };
const project = (name, timeout) => ({
  displayName: name,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/tests/${name}/**/*.test.ts`],
  transform,
  moduleNameMapper,
});
module.exports = {
  projects: [project('unit'), project('golden'), project('parity'), project('integration'), project('e2e')],
};
