export { jitModule, jitModuleAsync, JitRunner, type JitModule } from './engine.js';
export type { TrustedAccesses } from './codegen.js';
export { compileModule } from './compile.js';
