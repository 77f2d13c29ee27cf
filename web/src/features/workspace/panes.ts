// The panes the workspace's rail switches between.
export type Pane = 'ticket' | 'new' | 'account' | 'dashboard' | 'kb' | 'admin' | 'inbox';
