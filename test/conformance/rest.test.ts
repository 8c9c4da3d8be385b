import { restDoor } from './doors.js';
import { describeDoor } from './suite.js';

/** With plain fetch as the client. */
describeDoor(restDoor);
