import { coreDoor } from './doors.js';
import { describeDoor } from './suite.js';

describeDoor(coreDoor);
