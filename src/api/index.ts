// Public surface of the REST API: createApp (see AppOptions for every option), the shop
// glue main.ts needs to start a node with the print-shop FSM, and the route table with the
// OpenAPI document derived from it.
export { createApp } from './app.js';
export type { AppOptions, Raft3dApp } from './app.js';
export { createApiServer } from './server.js';
export { startShopNode } from './shop.js';
export type { ShopNode, ShopNodeOptions } from './shop.js';
export { Forwarder, FORWARDED_HEADER, LEADER_HEADER, REPLAYED_HEADER } from './forward.js';
export { OPENAPI_PATH } from './openapi.js';
export { API_ROUTES, openApiDocument } from './routes.js';
export { writeConsoleBundle } from './console-assets.js';
