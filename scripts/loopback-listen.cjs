/**
 * Preloaded with `node --require` (through NODE_OPTIONS) into the Agents
 * Playground, which calls `server.listen(port)` with no host and so would
 * listen on every interface. This makes every host-less TCP listen() in the
 * process bind 127.0.0.1 instead. Unix sockets, pipes and handles are left
 * alone, and so is any listen() that names its host.
 *
 * LOOPBACK_LISTEN_HOST overrides the address (e.g. ::1). Development only.
 */
'use strict';

const net = require('node:net');

const host = process.env.LOOPBACK_LISTEN_HOST || '127.0.0.1';
const originalListen = net.Server.prototype.listen;

const isPort = (v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));
const noHost = (v) => v === undefined || v === null || v === '' || typeof v === 'function' || typeof v === 'number';

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (args.length === 0 || typeof first === 'function') {
    // listen() / listen(cb): a random port on every interface.
    args.unshift(0, host);
  } else if (isPort(first)) {
    // listen(port[, host][, backlog][, cb])
    if (noHost(args[1])) {
      if (args[1] === undefined || args[1] === null || args[1] === '') args[1] = host;
      else args.splice(1, 0, host);
    }
  } else if (first === undefined || first === null) {
    // listen(undefined, ...) is an unspecified port: same as 0.
    args[0] = 0;
    if (noHost(args[1])) {
      if (args[1] === undefined || args[1] === null || args[1] === '') args[1] = host;
      else args.splice(1, 0, host);
    }
  } else if (typeof first === 'object' && !Array.isArray(first) && first.path === undefined && first.fd === undefined && first.handle === undefined && !(first instanceof net.Server) && typeof first._handle === 'undefined') {
    // listen({ port, host?, ... })
    if (first.host === undefined || first.host === null || first.host === '') args[0] = { ...first, host };
  }
  return originalListen.apply(this, args);
};
