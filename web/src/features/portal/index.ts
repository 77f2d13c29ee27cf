// The public help center and the customer portal.
export { Help } from './Help';
