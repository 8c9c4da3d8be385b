import type { OpenApiPaths } from '../context.js';

/** The share-link routes' contract, served in /api/v1/openapi.json (handlers: routes.ts). */
const shareSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    root: { type: 'string' },
    path: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string', enum: ['file', 'dir'] },
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
    hasPassword: { type: 'boolean' },
    maxDownloads: { type: ['integer', 'null'] },
    downloads: { type: 'integer' },
    uploadOnly: { type: 'boolean' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    endedAt: { type: ['string', 'null'], format: 'date-time', description: 'when the shared file or folder was deleted (the link ended with it)' },
    state: { type: 'string', enum: ['active', 'expired', 'exhausted', 'revoked', 'ended'] },
  },
};
const idParamDoc = { name: 'id', in: 'path', required: true, schema: { type: 'integer' } };
const errorRef = { description: 'error', content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'object' } } } } } };

export const openapi: OpenApiPaths = {
  '/api/v1/shares': {
    post: {
      summary: 'Create a share link for a file or folder (owner or write access)',
      tags: ['shares'],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['root'],
              properties: {
                root: { type: 'string' },
                path: { type: 'string' },
                expiresAt: { type: ['string', 'integer', 'null'], description: 'ISO 8601 date-time or epoch milliseconds' },
                expiresInSec: { type: 'integer' },
                password: { type: ['string', 'null'] },
                maxDownloads: { type: ['integer', 'null'], description: 'downloads allowed (uploads for drop links)' },
                uploadOnly: { type: 'boolean', description: 'drop box: uploads only, no listing or download' },
              },
            },
          },
        },
      },
      responses: {
        '201': {
          description: 'created; the token is shown once',
          content: { 'application/json': { schema: { type: 'object', properties: { share: shareSchema, token: { type: 'string' }, url: { type: 'string' }, downloadUrl: { type: ['string', 'null'] } } } } },
        },
        '400': errorRef,
        '403': errorRef,
        '404': errorRef,
      },
    },
    get: {
      summary: 'Share links I created or that point into my roots',
      tags: ['shares'],
      parameters: [{ name: 'root', in: 'query', required: false, schema: { type: 'string' } }],
      responses: { '200': { description: 'links', content: { 'application/json': { schema: { type: 'object', properties: { shares: { type: 'array', items: shareSchema } } } } } } },
    },
  },
  '/api/v1/shares/{id}': {
    get: {
      summary: 'One share link',
      tags: ['shares'],
      parameters: [idParamDoc],
      responses: { '200': { description: 'the link', content: { 'application/json': { schema: { type: 'object', properties: { share: shareSchema } } } } }, '404': errorRef },
    },
    delete: {
      summary: 'Revoke a share link at once (cookies issued for it stop working too)',
      tags: ['shares'],
      parameters: [idParamDoc],
      responses: { '204': { description: 'revoked' }, '404': errorRef },
    },
  },
  '/api/v1/shares/{id}/accesses': {
    get: {
      summary: 'Access log of a share link (newest first)',
      tags: ['shares'],
      parameters: [idParamDoc],
      responses: {
        '200': {
          description: 'accesses',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  accesses: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        at: { type: 'string', format: 'date-time' },
                        action: { type: 'string' },
                        address: { type: ['string', 'null'] },
                        userAgent: { type: ['string', 'null'] },
                        bytes: { type: 'integer' },
                        path: { type: ['string', 'null'] },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        '404': errorRef,
      },
    },
  },
};
