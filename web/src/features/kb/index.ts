// The knowledge base's editor (loaded only when opened).
export { default } from './Knowledge';
