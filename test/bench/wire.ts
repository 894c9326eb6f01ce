// The real forward proxy for the bench's "wire" figure: the same tinyproxy the unit tests start.
export { startTinyproxy } from '../unit/net-helpers';
