// Public surface of the transport layer: the Transport contract and its implementations.
export type { MessageHandler, PeerTls, Transport, TransportLogger } from './types.js';
export { InProcessHub, InProcessTransport } from './in-process.js';
export { HttpTransport, livenessTimings } from './http-transport.js';
export type { HttpTransportOptions, UnauthorizedRequest } from './http-transport.js';
export type { PeerStats } from './peer-sender.js';
