import { webdavDoor } from './doors.js';
import { describeDoor } from './suite.js';

/** With the `webdav` package as the client. */
describeDoor(webdavDoor);
