// The admin console: people, groups, security, service levels, the catalog, AI settings and jobs.
export { default } from './Admin';
export type { Section } from './Admin';
