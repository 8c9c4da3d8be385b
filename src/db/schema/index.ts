export * from './accounts.js';
export * from './roots.js';
export * from './files.js';
export * from './dav.js';
export * from './shares.js';
export * from './guard.js';
export * from './devices.js';
