import { syncDoor } from './doors.js';
import { describeDoor } from './suite.js';

/** With the companion client's own protocol client (src/client/api.ts). */
describeDoor(syncDoor);
