// librsync-format delta engine: signature / delta / patch as streams, plus file forms and a cache.
export { ByteReader, ChunkBatcher, Filler, fileSource, type ByteSource, type DataSource, type PullSource } from './bytes.js';
export { SignatureCache } from './cache.js';
export { delta, type DeltaOptions } from './delta.js';
export { deltaFile, ioError, patchFile, signatureFile, writeChunks, type FileJobOptions } from './files.js';
export {
  DeltaError, ResultCode, resolveSignatureParams, type SignatureOptions, type SignatureParams, type WeakSumKind,
} from './format.js';
export { bufferBasis, fileBasis, patch, patchChunks, type BasisReader } from './patch.js';
export { HashPool } from './pool.js';
export { parseSignature, readSignature, signature, type Signature, type SignatureJobOptions } from './signature.js';
