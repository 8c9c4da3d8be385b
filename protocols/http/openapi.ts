import type { OpenApiPaths } from './context.js';

/**
 * The OpenAPI 3.1 document of /api/v1. Paths with a `{path}` parameter take a slash-separated
 * path inside the root (e.g. `a/b.txt`); the variants without it address the root itself.
 */
type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const err = (description: string) => json(ref('Error'), description);
const noContent = { description: 'done' };
const body = (properties: Json, required: string[] = []) => ({
  required: true,
  content: { 'application/json': { schema: { type: 'object', properties, required, additionalProperties: false } } },
});
const pathParam = (name: string, description?: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, ...(description ? { description } : {}) });
const query = (name: string, schema: Json, description?: string) => ({ name, in: 'query', required: false, schema, ...(description ? { description } : {}) });
const header = (name: string, description: string) => ({ name, in: 'header', required: false, schema: { type: 'string' }, description });
const ROOT = pathParam('root', 'root name');
const CONFLICT_POLICY = {
  type: 'string',
  enum: ['keep-both', 'newest-wins', 'server-wins'],
  description: "what an outdated base (If-Match, a sync client's base version) does: 'keep-both' a conflict copy beside the file; 'newest-wins' the later file mtime (or receive time) becomes the head; 'server-wins' the head stays. Each keeps the other content and leaves a conflict record",
};
const PATH = pathParam('path', 'path inside the root; may contain slashes');
/** New secrets need a password session: a token (API or device) or pairing code cannot make another. */
const PASSWORD_ONLY = { '403': err('only a password login (Basic user:password, the web page, a login session) may do this, not an API or device token') };
/** Giving an account access (a user, a password, a grant) needs one too: a leaked token keeps none. */
const GIVES_ACCESS = 'or not a password login (Basic user:password, the web page, a login session): an API or device token gives no access that would outlive it';
const AUTH_ERRORS = { '401': err('no or wrong credentials'), '429': err('too many failed logins (Retry-After)') };
const FILE_ERRORS = { ...AUTH_ERRORS, '400': err('invalid path or input'), '403': err('read-only access'), '404': err('no such root (or not visible to you) or path'), '423': err('locked (WebDAV lock)') };

function op(summary: string, tag: string, extra: Json = {}, responses: Json = {}, errors: Json = FILE_ERRORS): Json {
  return { summary, tags: [tag], ...extra, responses: { ...responses, ...errors } };
}

/** Documents a route with and without its trailing `{path}`. */
function both(prefix: string, item: (withPath: boolean) => Json): OpenApiPaths {
  return { [prefix]: item(false), [`${prefix}/{path}`]: item(true) };
}

const entryList = json({ type: 'object', properties: { path: { type: 'string' }, entries: { type: 'array', items: ref('Entry') } } });

const paths: OpenApiPaths = {
  '/api/v1/openapi.json': { get: op('This document', 'meta', { security: [] }, { '200': json({ type: 'object' }) }, {}) },
  '/api/v1/login': {
    post: op('Log in: a session cookie (mode=cookie, with a CSRF token for unsafe requests) or a bearer token (mode=token)', 'accounts', {
      security: [],
      requestBody: body({ user: { type: 'string' }, password: { type: 'string' }, mode: { type: 'string', enum: ['cookie', 'token'], default: 'token' } }, ['user', 'password']),
    }, { '200': json({ type: 'object', properties: { user: ref('Me'), expiresAt: { type: 'string' }, token: { type: 'string', description: 'sgs_... (mode=token)' }, csrfToken: { type: 'string', description: 'send as X-CSRF-Token (mode=cookie)' } } }) }, { ...AUTH_ERRORS, ...PASSWORD_ONLY, '400': err('invalid input') }),
  },
  '/api/v1/logout': { post: op('Close the current login session (cookie or sgs_ bearer)', 'accounts', {}, { '204': noContent }, AUTH_ERRORS) },
  '/api/v1/me': { get: op('The authenticated user (and csrfToken for cookie sessions)', 'accounts', {}, { '200': json({ type: 'object', properties: { user: ref('Me'), device: { type: ['object', 'null'] }, via: { type: 'string' }, csrfToken: { type: 'string' } } }) }, AUTH_ERRORS) },
  '/api/v1/me/password': { put: op('Change the password (needs the current one); closes all login sessions', 'accounts', { requestBody: body({ current: { type: 'string' }, password: { type: 'string', minLength: 8 } }, ['current', 'password']) }, { '204': noContent }, { ...AUTH_ERRORS, '400': err('too short') }) },
  '/api/v1/me/tokens': {
    get: op('Personal API tokens (usable as the password for WebDAV and FTP)', 'accounts', {}, { '200': json({ type: 'object', properties: { tokens: { type: 'array', items: ref('Token') } } }) }, AUTH_ERRORS),
    post: op('Create a named API token; the secret (sgt_...) is shown once', 'accounts', { requestBody: body({ name: { type: 'string' } }, ['name']) }, { '201': json({ type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, token: { type: 'string' } } }) }, { ...AUTH_ERRORS, ...PASSWORD_ONLY, '400': err('invalid name') }),
  },
  '/api/v1/me/tokens/{id}': { delete: op('Revoke an API token, and the devices registered with it', 'accounts', { parameters: [pathParam('id')] }, { '204': noContent }, { ...AUTH_ERRORS, '404': err('no such token') }) },
  '/api/v1/me/devices': {
    get: op('Registered devices with last address, last seen time, and per synced root the cursor applied and how many changes behind', 'devices', {}, { '200': json({ type: 'object', properties: { devices: { type: 'array', items: ref('Device') } } }) }, AUTH_ERRORS),
    post: op('Register a device by the uuid it made; returns its token (sgd_..., a bearer credential)', 'devices', { requestBody: body({ uuid: { type: 'string' }, name: { type: 'string' } }, ['uuid', 'name']) }, { '201': json({ type: 'object', properties: { id: { type: 'integer' }, uuid: { type: 'string' }, name: { type: 'string' }, token: { type: 'string' } } }) }, { ...AUTH_ERRORS, '400': err('invalid uuid or name'), '403': err('a device token cannot register another device') }),
  },
  '/api/v1/me/devices/pairing': {
    post: op('A one-time pairing code (10 minutes, single use) a new companion client logs in with: syncgate client login URL --code CODE', 'devices', {}, { '201': json({ type: 'object', properties: { code: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } }) }, { ...AUTH_ERRORS, ...PASSWORD_ONLY }),
  },
  '/api/v1/me/devices/{id}': { delete: op('Revoke a device (its token stops working)', 'devices', { parameters: [pathParam('id')] }, { '204': noContent }, { ...AUTH_ERRORS, '404': err('no such device') }) },
  '/api/v1/users': {
    get: op('All users (admin)', 'admin', {}, { '200': json({ type: 'object', properties: { users: { type: 'array', items: ref('User') } } }) }, { ...AUTH_ERRORS, '403': err('not an admin') }),
    post: op('Create a user (admin, password login only)', 'admin', { requestBody: body({ name: { type: 'string' }, password: { type: 'string', minLength: 8 }, isAdmin: { type: 'boolean' } }, ['name', 'password']) }, { '201': json(ref('User')) }, { ...AUTH_ERRORS, '400': err('invalid'), '403': err(`not an admin, ${GIVES_ACCESS}`), '409': err('exists') }),
  },
  '/api/v1/users/{name}': {
    get: op('One user (admin)', 'admin', { parameters: [pathParam('name')] }, { '200': json(ref('User')) }, { ...AUTH_ERRORS, '403': err('not an admin'), '404': err('no such user') }),
    patch: op('Disable/enable a user or set their password (admin). Enabling and setting a password need a password login; disabling does not. Every change is checked before any is made', 'admin', { parameters: [pathParam('name')], requestBody: body({ disabled: { type: 'boolean' }, password: { type: 'string' } }) }, { '200': json(ref('User')) }, { ...AUTH_ERRORS, '400': err('invalid'), '403': err(`not an admin, ${GIVES_ACCESS} (enabling, a password)`), '404': err('no such user') }),
    delete: op('Delete a user (admin)', 'admin', { parameters: [pathParam('name')] }, { '204': noContent }, { ...AUTH_ERRORS, '403': err('not an admin'), '404': err('no such user') }),
  },
  '/api/v1/admin/roots': {
    get: op('Every root with its owner, grants and retention (admin; gives no access to its files)', 'admin', {}, { '200': json({ type: 'object', properties: { roots: { type: 'array', items: ref('AdminRoot') } } }) }, { ...AUTH_ERRORS, '403': err('not an admin') }),
  },
  '/api/v1/roots': {
    get: op('Roots visible to the user (owned and shared with them)', 'roots', { parameters: [query('access', { type: 'string', enum: ['all', 'owner', 'shared'] }, "'shared' = roots other users shared with you")] }, { '200': json({ type: 'object', properties: { roots: { type: 'array', items: ref('Root') } } }) }, AUTH_ERRORS),
    post: op('Create a root over a server folder (admin; for another owner, password login only)', 'roots', { requestBody: body({ name: { type: 'string' }, dir: { type: 'string', description: 'absolute server path' }, owner: { type: 'string', description: 'user name; default: you' } }, ['name', 'dir']) }, { '201': json(ref('Root')) }, { ...AUTH_ERRORS, '400': err('invalid'), '403': err(`not an admin, ${GIVES_ACCESS} (another owner)`), '409': err('exists') }),
  },
  '/api/v1/roots/{root}': {
    parameters: [ROOT],
    get: op('One root', 'roots', {}, { '200': json(ref('Root')) }),
    patch: op("Change a root's settings (owner or admin): conflictPolicy, retention (as PUT .../retention)", 'roots', { requestBody: body({ conflictPolicy: CONFLICT_POLICY, retention: { type: 'object' } }) }, { '200': json(ref('Root')) }, { ...AUTH_ERRORS, '400': err('invalid setting'), '403': err('not the owner or an admin'), '404': err('no such root') }),
    delete: op('Remove a root (admin; files on disk stay)', 'roots', {}, { '204': noContent }),
  },
  '/api/v1/roots/{root}/grants': { parameters: [ROOT], get: op('Who the root is shared with (owner or admin)', 'roots', {}, { '200': json({ type: 'object', properties: { grants: { type: 'array', items: { type: 'object', properties: { user: { type: 'string' }, mode: { type: 'string', enum: ['read', 'write'] } } } } } }) }) },
  '/api/v1/roots/{root}/grants/{user}': {
    parameters: [ROOT, pathParam('user')],
    put: op('Share the root with a user for read or write, or change the mode (owner or admin, password login only)', 'roots', { requestBody: body({ mode: { type: 'string', enum: ['read', 'write'] } }, ['mode']) }, { '200': json({ type: 'object' }) }, { ...FILE_ERRORS, '403': err(`not the owner or an admin, ${GIVES_ACCESS}`) }),
    delete: op('Stop sharing the root with a user (an API token may)', 'roots', {}, { '204': noContent }),
  },
  ...both('/api/v1/roots/{root}/list', (p) => ({ parameters: p ? [ROOT, PATH] : [ROOT], get: op('List a folder', 'files', {}, { '200': entryList, '409': err('not a folder') }) })),
  ...both('/api/v1/roots/{root}/stat', (p) => ({ parameters: p ? [ROOT, PATH] : [ROOT], get: op('Metadata of a file or folder (ETag = its version)', 'files', {}, { '200': json(ref('Entry')) }) })),
  ...both('/api/v1/roots/{root}/files', (p) => ({
    parameters: p ? [ROOT, PATH] : [ROOT],
    get: op('Download a file (or an old version with ?version=N). Range (one range) -> 206; If-None-Match / If-Modified-Since -> 304; If-Match or If-Unmodified-Since failing -> 412 (RFC 9110 13.2.2 order); If-Range (ETag or date) honoured. HEAD gives the headers only.', 'files', {
      parameters: [query('version', { type: 'integer' }, 'an old version from /history'), query('from', { type: 'string' }, "that version's path when history lists another (before a move)"), query('inline', { type: 'string', enum: ['0', '1'] }), header('Range', 'bytes=a-b, a- or -n'), header('If-None-Match', 'an ETag'), header('If-Modified-Since', 'HTTP date'), header('If-Range', 'an ETag')],
    }, { '200': { description: 'the content', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, '206': { description: 'a range' }, '304': { description: 'not modified' }, '409': err('a folder'), '412': err('If-Match failed'), '416': err('range not satisfiable') }),
    ...(p ? {
      put: op("Upload (streamed). Without If-Match: last writer wins (the replaced version stays in history). With If-Match: <ETag of the version you edited> and an outdated base, the root's conflictPolicy decides: keep-both keeps your content as a conflict copy beside the file and answers 409 with {error, entry (the copy), conflict}; server-wins (or newest-wins when the file is newer) keeps the file, holds your content with the conflict record and answers 409; newest-wins with your content newer makes it the file and answers 200 with the record in conflict; send 'Prefer: conflict=fail' (or ?onConflict=fail) to get 412 and nothing written instead. If-None-Match: * (or the current ETag) -> 412 when the file exists; If-Unmodified-Since -> 412 when changed since. Missing parent folders are created unless ?parents=0 (then 404).", 'files', {
        parameters: [query('parents', { type: 'string', enum: ['0', '1', 'true', 'false'] }), query('mtimeMs', { type: 'integer' }), query('baseVersion', { type: 'integer' }, 'instead of If-Match'), query('onConflict', { type: 'string', enum: ['copy', 'fail'] }), header('If-Match', 'ETag of the base version'), header('If-None-Match', '* = create only'), header('Prefer', 'conflict=fail')],
        requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      }, { '200': json(ref('WriteResult'), 'replaced'), '201': json(ref('WriteResult'), 'created'), '409': json(ref('ConflictAnswer'), 'outdated base: conflict copy written'), '412': err('If-Match failed (Prefer: conflict=fail) or If-None-Match: * and the file exists'), '413': err('larger than allowed'), '507': err('no space') }),
      delete: op('Delete a file or a folder (recursively; every file stays in history). If-Match -> 412 when outdated.', 'files', { parameters: [header('If-Match', 'ETag')] }, { '204': noContent, '412': err('outdated') }),
    } : {}),
  })),
  '/api/v1/roots/{root}/mkdir': { parameters: [ROOT], post: op('Create a folder', 'files', { requestBody: body({ path: { type: 'string' }, parents: { type: 'boolean' } }, ['path']) }, { '201': json(ref('Entry')), '409': err('exists') }) },
  '/api/v1/roots/{root}/move': { parameters: [ROOT], post: op('Move or rename (optionally into another root, toRoot)', 'files', { requestBody: body(moveProps(true), ['from', 'to']) }, { '200': json(ref('Entry')), '409': err('target exists'), '412': err('outdated baseVersion') }) },
  '/api/v1/roots/{root}/copy': { parameters: [ROOT], post: op('Copy a file or folder (optionally into another root, toRoot)', 'files', { requestBody: body(moveProps(false), ['from', 'to']) }, { '201': json(ref('Entry')), '409': err('target exists') }) },
  ...both('/api/v1/roots/{root}/zip', (p) => ({ parameters: p ? [ROOT, PATH] : [ROOT], get: op('A folder as a zip, streamed (entries stored, not compressed)', 'files', {}, { '200': { description: 'zip', content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } }, '409': err('not a folder') }) })),
  '/api/v1/roots/{root}/history/{path}': { parameters: [ROOT, PATH], get: op('Versions of the file at a path, newest first (by seq), across its moves: the versions it had before a move follow the move-in (fromPath, fromVersion), each with the path it was made at. Download one with GET /files/{path}?version=N (&from=its path when that differs)', 'history', {}, { '200': json({ type: 'object', properties: { path: { type: 'string' }, versions: { type: 'array', items: ref('Version') } } }) }) },
  '/api/v1/roots/{root}/restore': { parameters: [ROOT], post: op('Restore an old version as a new version (one from before a move too: from = the path history lists it with)', 'history', { requestBody: body({ path: { type: 'string' }, version: { type: 'integer' }, from: { type: 'string', description: "the version's own path when it differs from path (a version from before a move)" } }, ['path', 'version']) }, { '200': json(ref('Entry')) }) },
  ...both('/api/v1/roots/{root}/deleted', (p) => ({ parameters: p ? [ROOT, PATH] : [ROOT], get: op('Deleted files below a folder that can be restored', 'history', {}, { '200': entryList }) })),
  '/api/v1/roots/{root}/undelete': { parameters: [ROOT], post: op('Bring a deleted file back (its last version with content, or the one named)', 'history', { requestBody: body({ path: { type: 'string' }, version: { type: 'integer' } }, ['path']) }, { '200': json(ref('Entry')), '409': err('not deleted') }) },
  '/api/v1/roots/{root}/conflicts': { parameters: [ROOT], get: op('Open conflicts (all=1: resolved too)', 'history', { parameters: [query('all', { type: 'string', enum: ['0', '1', 'true', 'false'] })] }, { '200': json({ type: 'object', properties: { conflicts: { type: 'array', items: ref('Conflict') } } }) }) },
  '/api/v1/roots/{root}/conflicts/{id}/resolve': { parameters: [ROOT, pathParam('id')], post: op('Resolve a conflict: keep the server version, the incoming copy, or both', 'history', { requestBody: body({ resolution: { type: 'string', enum: ['keep-server', 'keep-incoming', 'keep-both'] } }, ['resolution']) }, { '200': json({ type: 'object', properties: { resolution: { type: 'string' }, entry: { oneOf: [ref('Entry'), { type: 'null' }] } } }), '409': err('already resolved') }) },
  '/api/v1/uploads': {
    options: op('tus 1.0.0 capabilities (Tus-Version, Tus-Extension: creation,termination,expiration, Tus-Max-Size)', 'uploads', { security: [] }, { '204': noContent }, {}),
    post: op('tus creation: Upload-Length and Upload-Metadata with root, path and optionally baseVersion, onConflict (copy|fail), mtimeMs (base64 values). 201 with Location.', 'uploads', { parameters: [header('Tus-Resumable', '1.0.0'), header('Upload-Length', 'total bytes'), header('Upload-Metadata', 'root <b64>,path <b64>,...')] }, { '201': { description: 'created; Location is the upload URL' }, '412': err('Tus-Resumable missing') }),
  },
  '/api/v1/uploads/{id}': {
    parameters: [pathParam('id')],
    head: op('tus: current Upload-Offset', 'uploads', {}, { '200': { description: 'Upload-Offset, Upload-Length' } }),
    patch: op('tus: append bytes at Upload-Offset (Content-Type: application/offset+octet-stream). The last byte commits the file through the core (one version; X-Syncgate-Version, ETag; X-Syncgate-Conflict when a conflict copy was made).', 'uploads', {
      parameters: [header('Upload-Offset', 'current offset')],
      requestBody: { required: true, content: { 'application/offset+octet-stream': { schema: { type: 'string', format: 'binary' } } } },
    }, { '204': { description: 'accepted; Upload-Offset' }, '409': err('offset mismatch'), '415': err('wrong content type') }),
    delete: op('tus termination: drop the partial upload', 'uploads', {}, { '204': noContent }),
  },
};

function moveProps(withBase: boolean): Json {
  return {
    from: { type: 'string' },
    to: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    toRoot: { type: 'string', description: 'another root you may write' },
    ...(withBase ? { baseVersion: { type: 'integer', description: 'refuse (412) unless the source is at this version' } } : {}),
  };
}

const schemas: Json = {
  Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } } } } },
  Me: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, isAdmin: { type: 'boolean' } } },
  User: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, isAdmin: { type: 'boolean' }, disabled: { type: 'boolean' }, createdAt: { type: 'string' } } },
  Token: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, createdAt: { type: 'string' }, lastUsedAt: { type: ['string', 'null'] } } },
  Device: { type: 'object', properties: { id: { type: 'integer' }, uuid: { type: 'string' }, name: { type: 'string' }, lastAddress: { type: ['string', 'null'] }, lastSeenAt: { type: ['string', 'null'] }, revoked: { type: 'boolean' } } },
  AdminRoot: { type: 'object', properties: { name: { type: 'string' }, owner: { type: ['string', 'null'] }, access: { type: ['string', 'null'], enum: ['owner', 'read', 'write', null], description: 'your own access to its files' }, retention: { type: 'object' }, conflictPolicy: CONFLICT_POLICY, grants: { type: 'array', items: { type: 'object', properties: { user: { type: 'string' }, mode: { type: 'string', enum: ['read', 'write'] } } } } } },
  Root: { type: 'object', properties: { name: { type: 'string' }, owner: { type: ['string', 'null'] }, access: { type: 'string', enum: ['owner', 'read', 'write'] }, retention: { type: 'object' }, conflictPolicy: CONFLICT_POLICY, seq: { type: 'integer' } } },
  Entry: { type: 'object', properties: { path: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string', enum: ['file', 'dir'] }, size: { type: 'integer' }, mtime: { type: 'string' }, mtimeMs: { type: 'integer' }, hash: { type: ['string', 'null'] }, version: { type: 'integer' }, etag: { type: 'string' }, seq: { type: 'integer' }, deleted: { type: 'boolean' } } },
  Version: { type: 'object', properties: { path: { type: 'string', description: 'the path the version was made at (an earlier one, before a move)' }, fromPath: { type: ['string', 'null'], description: 'a move-in: where the file came from' }, fromVersion: { type: ['integer', 'null'] }, version: { type: 'integer' }, seq: { type: 'integer' }, op: { type: 'string' }, kind: { type: 'string' }, deleted: { type: 'boolean' }, hash: { type: ['string', 'null'] }, size: { type: 'integer' }, mtimeMs: { type: 'integer' }, user: { type: 'string' }, device: { type: ['string', 'null'] }, protocol: { type: 'string' }, createdAt: { type: 'string' }, available: { type: 'boolean' } } },
  Conflict: { type: 'object', properties: { id: { type: 'integer' }, path: { type: 'string' }, kind: { type: 'string', enum: ['edit-edit', 'delete-edit', 'edit-delete'], description: "incoming-server: 'delete-edit' an outdated delete that deleted nothing, 'edit-delete' an edit of a file deleted since (no copy: copyPath '')" }, policy: CONFLICT_POLICY, kept: { type: 'string', enum: ['server', 'incoming'], description: "whose content the path shows: 'server' (yours is at copyPath, or held by this record when copyPath is ''), 'incoming' (yours became the head; the server's version serverVersion is in history)" }, copyPath: { type: 'string' }, baseVersion: { type: 'integer' }, serverVersion: { type: 'integer' }, incomingHash: { type: 'string' }, device: { type: 'string' }, user: { type: 'string' }, createdAt: { type: 'string' }, resolvedAt: { type: ['string', 'null'] }, resolution: { type: ['string', 'null'] } } },
  WriteResult: { type: 'object', properties: { entry: ref('Entry'), created: { type: 'boolean' }, unchanged: { type: 'boolean' }, conflict: ref('Conflict') } },
  ConflictAnswer: { allOf: [ref('Error'), ref('WriteResult')] },
};

export function buildOpenApi(extra: OpenApiPaths): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'syncgate REST API',
      version: '1',
      description:
        'Authenticate with HTTP Basic (user + password or API token), Bearer (sgt_ API token, sgs_ login session, sgd_ device token) or the session cookie from POST /api/v1/login (mode=cookie); cookie-authenticated POST/PUT/PATCH/DELETE need X-CSRF-Token. Errors are {"error":{"code","message"}}. Repeated failed logins slow down, then answer 429 with Retry-After.',
    },
    servers: [{ url: '/' }],
    security: [{ basic: [] }, { bearer: [] }, { cookie: [] }],
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'sg_session' },
      },
      schemas,
    },
    paths: { ...paths, ...extra },
  };
}
