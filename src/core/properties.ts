import { PropertiesRepo, type DeadProperty } from '../db/properties-repo.js';
import type { CoreContext } from './context.js';

export type { DeadProperty };

/**
 * Dead properties of WebDAV resources; they follow their path through moves, copies and deletes
 * (vfs-write calls moveTree, copyTree, deleteTree). Who may read or change them is the
 * connection's rule (write access, scope, locks): this is their store.
 */
export class Properties extends PropertiesRepo {
  constructor(ctx: CoreContext) {
    super(ctx.db);
  }
}
