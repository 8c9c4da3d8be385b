import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Failed logins of the brute-force guard, kept so that a restart neither lifts a ban nor resets a
 * count. Keys name an address (`addr:…`) or an address and a user name or link (`pair:…`), never a
 * name alone. Rows whose window and ban are over are deleted at start and when next touched.
 */
export const loginFailures = sqliteTable('login_failures', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  firstAt: integer('first_at').notNull(),
  bannedUntil: integer('banned_until').notNull().default(0),
});
