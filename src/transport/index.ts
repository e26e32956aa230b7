// Public surface of the transport layer: the Transport contract and its implementations.
export type { MessageHandler, PeerTls, Transport, TransportLogger } from './types.js';
export { InProcessHub, InProcessTransport } from './in-process.js';
export { HttpTransport } from './http-transport.js';
export { DEFAULT_TRANSPORT_OPTIONS, livenessTimings, resolveTransportOptions } from './options.js';
export type { HttpTransportOptions, UnauthorizedRequest } from './options.js';
export type { PeerStats } from './peer-sender.js';
