/**
 * Sluice's Avro layer: the wire schemas (`avro/schemas/*.avsc`), codecs with Avro
 * single-object encoding (default) or the Confluent wire format, schema evolution, and Avro
 * RPC over TCP and HTTP. Public exports are listed here explicitly.
 */
export { createCodec, CONFLUENT_MAGIC, SINGLE_OBJECT_MAGIC } from "./codec.js";
export type { AsyncCodec, Codec, SchemaInput } from "./codec.js";
export { crc64Avro, CRC64_AVRO_EMPTY } from "./crc64.js";
export { decodeError, hexPreview, HEX_PREVIEW_BYTES } from "./errors.js";
export type { DecodeResult } from "./errors.js";
export { avroParseOptions, sluiceLogicalTypes } from "./logical-types.js";
export {
  AvroRangeError,
  isLongType,
  numericTypeHook,
  readZigZag,
  writeZigZag,
} from "./longs.js";
export type { LongMode } from "./longs.js";
export {
  resolveConfluentOptions,
  resolveSingleObjectOptions,
} from "./options.js";
export type {
  CodecOptions,
  ConfluentCodecOptions,
  ResolvedConfluentOptions,
  ResolvedSingleObjectOptions,
  SingleObjectCodecOptions,
} from "./options.js";
export {
  HttpSchemaRegistryClient,
  InMemorySchemaRegistry,
} from "./registry.js";
export type {
  HttpSchemaRegistryOptions,
  SchemaRegistryClient,
} from "./registry.js";
export { startRegistrySimulator } from "./registry-simulator.js";
export type {
  RegistrySimulator,
  RegistrySimulatorOptions,
} from "./registry-simulator.js";
export {
  httpClient,
  loadProtocol,
  protocolFrom,
  RpcDeclaredError,
  serveHttp,
  serveTcp,
  tcpClient,
} from "./rpc.js";
export type {
  DeclaredError,
  RpcCallOptions,
  RpcClient,
  RpcClientOptions,
  RpcHandlers,
  RpcMethod,
  RpcMethods,
  RpcProtocol,
  RpcResult,
  RpcServer,
  RpcServerOptions,
} from "./rpc.js";
export {
  avroAssetDir,
  canonicalForm,
  defaultSchemaStore,
  fingerprintOf,
  SchemaStore,
} from "./schema-store.js";
export type { AvroSchemaJson } from "./schema-store.js";
