import { ftpDoor } from './doors.js';
import { describeDoor } from './suite.js';

/** With basic-ftp as the client. */
describeDoor(ftpDoor);
