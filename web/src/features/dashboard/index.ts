// The live dashboard (loaded only when opened).
export { default } from './Dashboard';
