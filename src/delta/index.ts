// librsync-format delta engine: signature / delta / patch as streams, plus file forms and a cache.
export { ByteReader, ChunkBatcher, type ByteSource } from './bytes.js';
export { SignatureCache } from './cache.js';
export { delta } from './delta.js';
export { deltaFile, patchFile, signatureFile, type FileJobOptions } from './files.js';
export {
  DeltaError, ResultCode, resolveSignatureParams, type SignatureOptions, type SignatureParams, type WeakSumKind,
} from './format.js';
export { bufferBasis, fileBasis, patch, type BasisReader } from './patch.js';
export { parseSignature, readSignature, signature, type Signature } from './signature.js';
