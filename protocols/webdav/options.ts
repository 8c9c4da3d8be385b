import { z } from 'zod';

export const webdavOptions = z.object({
  enabled: z.boolean().default(true),
  /** macOS AppleDouble (._*) and .DS_Store files: keep them ('store') or drop them ('ignore'). */
  appleDouble: z.enum(['store', 'ignore']).default('ignore'),
  /** Largest non-PUT request body (PROPFIND, PROPPATCH, LOCK XML), in bytes. */
  maxXmlBytes: z.number().int().positive().default(1_048_576),
  /** Realm of the Basic authentication challenge. */
  realm: z.string().default('syncgate'),
});
export type WebdavOptions = z.infer<typeof webdavOptions>;
