// The api with the kernel backend: what Node code imports (the `tsbpf`
// entry exports it). Importing it registers `backend: 'kernel'` for `load`.
export * from './index.js';
export { KernelBackendCollection, KernelBackendMap, KernelBackendProgram, loadIntoKernel } from './backend-kernel.js';
