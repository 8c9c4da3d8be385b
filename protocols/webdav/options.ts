import { z } from 'zod';

export const webdavOptions = z.object({
  enabled: z.boolean().default(true),
  /** macOS AppleDouble (._*) and .DS_Store files: keep them ('store') or drop them ('ignore'). */
  appleDouble: z.enum(['store', 'ignore']).default('ignore'),
  /** Largest non-PUT request body (PROPFIND, PROPPATCH, LOCK XML), in bytes. */
  maxXmlBytes: z.number().int().positive().default(1_048_576),
  /** Realm of the Basic authentication challenge. */
  realm: z.string().default('syncgate'),
  /**
   * Seconds a verified Authorization header is remembered, so that a client sending its
   * credentials on every request does not pay an Argon2 verification each time (0 = never).
   * A disabled or deleted user is refused at once regardless.
   */
  authCacheSec: z.number().int().min(0).default(60),
});
export type WebdavOptions = z.infer<typeof webdavOptions>;
