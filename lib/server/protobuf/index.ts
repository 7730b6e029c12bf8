export { decodeProtobufObject, encodeProtobufObject, isProtobuf, PROTOBUF_CONTENT_TYPE } from './codec.ts';
