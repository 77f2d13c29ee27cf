// The agent workspace: the navigation rail, views and the live ticket list, and the open pane.
export { Workspace } from './Workspace';
