export {
  acquireModule,
  type ModuleInfo,
  type ModuleUse,
  moduleUsers,
  releaseModule,
  SharedModule,
} from './pkcs11-module.js';
